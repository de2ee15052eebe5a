//! The verdict of `slth verify` on a certificate file: read it, check it, and say so in one
//! line or one JSON object. The binary prints what this returns and takes its exit code
//! from [`Verdict::exit_code`]; nothing else decides whether a certificate is valid.

use crate::certificate::{self, Certificate, Limits, LoadError, LoadErrorKind};
use crate::statement::statement_for_user;
use crate::verify::{self, Arithmetic, Checked, Rejection, RejectionKind, Report};
use serde_json::{Value, json};
use std::path::Path;

/// What `slth verify` concludes about one certificate file.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The certificate proves its statement (exit code 0).
    Valid(Box<Valid>),
    /// The certificate is not valid: a rule of the format is broken (exit code 1).
    Invalid(Failure),
    /// The certificate exceeds a resource limit and was not checked (exit code 1).
    Refused(Failure),
    /// The file cannot be read or is not JSON (exit code 2).
    Unreadable(Failure),
}

/// A valid certificate's report, and what it says about a network with biases.
#[derive(Debug, Clone)]
pub struct Valid {
    pub report: Report,
    /// The statement for the user's network when `meta` says the target is homogenized.
    pub for_user: Option<String>,
}

/// Why a certificate is not valid, where, and in which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    /// A JSON path, a position in the text, or `file`; never empty.
    pub place: String,
    pub reason: String,
}

/// Exit code of a valid certificate.
pub const EXIT_VALID: u8 = 0;
/// Exit code of a rejected or refused certificate.
pub const EXIT_REJECTED: u8 = 1;
/// Exit code of an unreadable input (and of usage errors).
pub const EXIT_UNREADABLE: u8 = 2;

impl Verdict {
    /// The verdict of a certificate that could not be read: unreadable for a file that
    /// cannot be read or is not JSON, invalid for JSON of the wrong shape (docs/FORMAT.md
    /// section 9, item 1), refused for a file beyond a resource limit (section 11).
    pub fn of_load_error(error: LoadError) -> Verdict {
        let failure = Failure {
            file: error.file.unwrap_or_default(),
            place: error.place,
            reason: error.detail,
        };
        match error.kind {
            LoadErrorKind::Io | LoadErrorKind::Syntax => Verdict::Unreadable(failure),
            LoadErrorKind::Schema => Verdict::Invalid(failure),
            LoadErrorKind::Limit => Verdict::Refused(failure),
        }
    }

    /// The verdict of a rejection by the checks of [`mod@crate::verify`]: refused for a
    /// resource limit (docs/FORMAT.md section 11), invalid for every reason of section 9.
    pub fn of_rejection(file: &str, rejection: Rejection) -> Verdict {
        let refused = rejection.kind == RejectionKind::Limit;
        let failure = Failure {
            file: file.to_string(),
            place: rejection.place,
            reason: rejection.detail,
        };
        if refused {
            Verdict::Refused(failure)
        } else {
            Verdict::Invalid(failure)
        }
    }

    /// The exit code of `slth verify` (docs/FORMAT.md section 11): 0 valid, 1 invalid or
    /// refused, 2 unreadable.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verdict::Valid(_) => EXIT_VALID,
            Verdict::Invalid(_) | Verdict::Refused(_) => EXIT_REJECTED,
            Verdict::Unreadable(_) => EXIT_UNREADABLE,
        }
    }

    /// `"valid"`, `"invalid"`, `"refused"` or `"unreadable"`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Valid(_) => "valid",
            Verdict::Invalid(_) => "invalid",
            Verdict::Refused(_) => "refused",
            Verdict::Unreadable(_) => "unreadable",
        }
    }

    /// Why the certificate is not valid; None when it is.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Verdict::Valid(_) => None,
            Verdict::Invalid(f) | Verdict::Refused(f) | Verdict::Unreadable(f) => Some(f),
        }
    }

    /// The one-line message of a failure (`INVALID: cert.json: ticket[0]: ...`); None when
    /// valid.
    pub fn failure_line(&self) -> Option<String> {
        let failure = self.failure()?;
        let label = match self {
            Verdict::Invalid(_) => "INVALID: ",
            Verdict::Refused(_) => "REFUSED (resource limit): ",
            Verdict::Valid(_) | Verdict::Unreadable(_) => "",
        };
        let file = if failure.file.is_empty() {
            String::new()
        } else {
            format!("{}: ", failure.file)
        };
        Some(format!(
            "{label}{file}{}: {}",
            failure.place, failure.reason
        ))
    }

    /// The report as one JSON object: the valid report with its `statement_for_user`, or
    /// `{"verdict", "place", "reason"}`.
    pub fn to_json(&self) -> Value {
        match (self, self.failure()) {
            (Verdict::Valid(valid), _) => {
                let mut value = valid.report.to_json();
                if let Some(line) = &valid.for_user {
                    value["statement_for_user"] = json!(line);
                }
                value
            }
            (_, f) => json!({
                "verdict": self.name(),
                "place": f.map(|f| f.place.as_str()),
                "reason": f.map(|f| f.reason.as_str()),
            }),
        }
    }

    /// The text of a valid verdict: the proven statement, the numbers behind it, and the
    /// statement for a network with biases. Empty for a failure (see [`Self::failure_line`]).
    pub fn render_text(&self) -> String {
        match self {
            Verdict::Valid(valid) => {
                let mut text = valid.report.render_text();
                if let Some(line) = &valid.for_user {
                    text.push_str(line);
                    text.push('\n');
                }
                text
            }
            _ => String::new(),
        }
    }
}

/// Reads a certificate file within `limits`, or the verdict on why it cannot be read.
pub fn read(path: &Path, limits: &Limits) -> Result<Certificate, Verdict> {
    certificate::load(path, limits).map_err(Verdict::of_load_error)
}

/// [`read`] for [`judge`] alone: a compact certificate's missing values stay marked (see
/// [`certificate::load_marked`]), which saves writing and parsing them again.
pub fn read_to_judge(path: &Path, limits: &Limits) -> Result<Certificate, Verdict> {
    certificate::load_marked(path, limits).map_err(Verdict::of_load_error)
}

/// Checks a certificate read from `file` (the name goes into a failure's message): the
/// structure and the kept weights (docs/FORMAT.md sections 3 to 7), then the inequalities
/// of section 6 in the given arithmetic. Valid exactly when every check of section 9
/// passes.
pub fn judge(
    file: &str,
    certificate: &Certificate,
    limits: &Limits,
    arithmetic: Arithmetic,
) -> Verdict {
    match verify::check_structure_with(certificate, limits) {
        Ok(checked) => judge_checked(file, certificate, checked, limits, arithmetic),
        Err(rejection) => Verdict::of_rejection(file, rejection),
    }
}

/// [`judge`] for a certificate whose structure `checked` already holds: decides the
/// inequalities (`slth verify --f64` takes its exit code from this, not from its estimate).
pub fn judge_checked(
    file: &str,
    certificate: &Certificate,
    checked: Checked,
    limits: &Limits,
    arithmetic: Arithmetic,
) -> Verdict {
    match verify::check_inequalities(checked, limits, arithmetic) {
        Ok(report) => Verdict::Valid(Box::new(Valid {
            report,
            for_user: statement_for_user(certificate),
        })),
        Err(rejection) => Verdict::of_rejection(file, rejection),
    }
}
