//! The `slth` binary: the arguments of [`slth::cli`] become typed options, each command is
//! one call into the library, and exit codes are decided in one place: [`report`], which
//! hands a certificate that could not be read to the checker's verdict like `verify` does.

use clap::Parser;
use slth::Error;
use slth::cli::{Cli, Command};
use slth_checker::certificate::Limits;
use slth_checker::verdict::{self, EXIT_REJECTED, EXIT_UNREADABLE, Verdict};
use slth_checker::verify::Arithmetic;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Prints to stdout; a reader that went away (`slth verify c | head -1`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => ExitCode::from(report(error)),
    }
}

/// Prints an error in one line and returns its exit code. A certificate that could not be
/// read is reported as the checker's verdict on it (INVALID, REFUSED or unreadable), so
/// its label and code are decided where `verify`'s are.
fn report(error: Error) -> u8 {
    if let Error::Load(e) = error {
        return conclude(&Verdict::of_load_error(e), false);
    }
    eprintln!("slth: {error}");
    match error {
        Error::Rejected { .. } => EXIT_REJECTED,
        _ => EXIT_UNREADABLE,
    }
}

/// Help and version exit 0; a usage error is one line, exit 2, that keeps all of clap's
/// message (the missing argument, the suggestion) but the usage lines.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(EXIT_UNREADABLE)
        }
        _ => {
            eprintln!("slth: {}", slth::cli::one_line(&e.render().to_string()));
            ExitCode::from(EXIT_UNREADABLE)
        }
    }
}

/// Runs one command; the exit code of a command that ran to its end.
fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Certify(args) => {
            let options = args.options()?;
            if args.json && args.output.as_deref() == Some(Path::new("-")) {
                let reason = "--json prints its object on stdout: give -o a file";
                return Err(Error::usage("json", reason));
            }
            slth::write::check_output(args.output.as_deref())?;
            let started = Instant::now();
            let certified = slth::certify::certify_file(&args.target, &options)?;
            let output = args.output.as_deref();
            let encoding = slth::write::Encoding::for_output(args.encoding.map(Into::into), output);
            slth::write::write_certificate(output, &certified.certificate, encoding)?;
            let seconds = started.elapsed().as_secs_f64();
            match args.output.as_deref().filter(|_| args.json) {
                Some(output) => {
                    let request = &options.request;
                    let json =
                        slth::json::certify(&certified, &args.target, output, request, seconds);
                    say!("{json}");
                }
                None => eprintln!("{}", certified.summary(&args.target, seconds)),
            }
        }
        Command::Verify(args) => {
            let limits = Limits::from(&args.limits);
            let code = verify(
                &args.certificate,
                args.json,
                args.exact,
                args.plain_f64,
                &limits,
            );
            return Ok(code);
        }
        Command::RandomTarget(args) => {
            let seed = slth::cli::seed(&args.seed)?;
            let range = args.range()?;
            slth::write::check_output(args.output.as_deref())?;
            let target =
                slth::generate::random_target(&args.dims, &seed, args.linear_output, &range)?;
            slth::write::write_output(args.output.as_deref(), &target.to_json_text())?;
        }
        Command::Eval(args) => {
            let limits = Limits::from(&args.limits);
            let evaluation = match &args.inputs {
                Some(inputs) => {
                    let labels = args.labels.as_deref();
                    slth::eval::classify_file(&args.certificate, inputs, labels, &limits)?
                }
                None => {
                    let seed = slth::cli::seed(&args.seed)?;
                    slth::eval::evaluate_points(&args.certificate, args.points, &seed, &limits)?
                }
            };
            print!("{}", evaluation.text);
            if let Some(counterexample) = evaluation.counterexample {
                return Err(counterexample);
            }
        }
        Command::Demo => print!("{}", slth::demo::run()?),
        Command::Neurons(args) => print!("{}", slth::neurons::cli::run_neurons(&args)?),
        Command::Experiment(args) => {
            let table = slth::neurons::cli::run_experiment(&args, |line| eprintln!("{line}"))?;
            print!("{table}");
        }
        Command::Inspect(args) => {
            let limits = Limits::from(&args.limits);
            let read = slth_checker::certificate::load(&args.certificate, &limits)?;
            if args.json {
                say!("{}", slth::json::inspect(&args.certificate, &read));
            } else {
                print!("{}", slth::inspect::summary(&args.certificate, &read));
            }
        }
        Command::Export(args) => {
            let limits = Limits::from(&args.limits);
            let output = Some(args.output.as_path());
            let dtype = args.dtype.into();
            match slth::export::export_file(&args.certificate, output, dtype, &limits)? {
                slth::export::Outcome::Written(summary) => eprintln!("{summary}"),
                slth::export::Outcome::NotValid(verdict) => return Ok(conclude(&verdict, false)),
            }
        }
        Command::Attack(args) => {
            let limits = Limits::from(&args.limits);
            let options = args.options()?;
            let attack = slth::attack::attack_file(&args.certificate, &options, &limits)?;
            if let Some(path) = &args.point_out {
                attack.write_point(path)?;
            }
            if args.json {
                say!("{}", attack.to_json());
            } else if args.quiet {
                say!("{}", attack.bracket_line());
            } else {
                print!("{}", attack.render_text());
                let t = attack.timing;
                eprintln!(
                    "searched in {:.2}s, sampled in {:.2}s, evaluated exactly in {:.2}s",
                    t.search, t.sampling, t.exact
                );
            }
            if let Some(counterexample) = attack.counterexample() {
                return Err(counterexample);
            }
        }
    }
    Ok(0)
}

/// `slth verify`: the checker's verdict (with `--f64`, also the plain f64 estimate), printed
/// as text or JSON; the exit code is always the checker's verdict's.
fn verify(path: &Path, json: bool, exact: bool, plain_f64: bool, limits: &Limits) -> u8 {
    let started = Instant::now();
    let file = path.display().to_string();
    let certificate = match verdict::read_to_judge(path, limits) {
        Ok(certificate) => certificate,
        Err(verdict) => {
            // Not a weight-subnetwork certificate: perhaps a neuron-subnetwork one.
            let neuron = slth_checker::neurons::NEURON_FORMAT_NAME;
            if matches!(verdict, Verdict::Invalid(_))
                && slth_checker::neurons::format_of_file(path, limits).as_deref() == Some(neuron)
            {
                return verify_neurons(path, json, limits);
            }
            return conclude(&verdict, json);
        }
    };
    let read = started.elapsed().as_secs_f64();
    let checking = Instant::now();
    let timing = |checking: Instant| {
        format!(
            "read in {read:.3}s, checked in {:.3}s",
            checking.elapsed().as_secs_f64()
        )
    };
    if plain_f64 {
        // The estimate is printed; the exit code is the checker's (sound, exact fallback),
        // so no false certificate exits 0 because its falseness is below f64's resolution.
        let checked = match slth_checker::verify::check_structure_with(&certificate, limits) {
            Ok(checked) => checked,
            Err(rejection) => return conclude(&Verdict::of_rejection(&file, rejection), json),
        };
        let estimate = slth::fast::estimate(&checked);
        let verdict =
            verdict::judge_checked(&file, &certificate, checked, limits, Arithmetic::Sound);
        if json {
            let mut value = estimate.to_json();
            value["exact_verdict"] = verdict.name().into();
            if let Some(f) = verdict.failure() {
                value["place"] = f.place.clone().into();
                value["reason"] = f.reason.clone().into();
            }
            say!("{value}");
        } else {
            say!("{}", estimate.render_text().trim_end());
            say!(
                "exact verdict (the exit code): {}",
                verdict.name().to_uppercase()
            );
            say!("{}", timing(checking));
        }
        return conclude(&verdict, false);
    }
    let arithmetic = if exact {
        Arithmetic::Exact
    } else {
        Arithmetic::Sound
    };
    let verdict = verdict::judge(&file, &certificate, limits, arithmetic);
    if !json && matches!(verdict, Verdict::Valid(_)) {
        say!("{}", verdict.render_text().trim_end());
        say!("{}", timing(checking));
    }
    conclude(&verdict, json)
}

/// `slth verify` on a neuron-subnetwork certificate (always exact; `--f64` and `--exact`
/// change nothing).
fn verify_neurons(path: &Path, json: bool, limits: &Limits) -> u8 {
    use slth_checker::neurons::{NeuronVerdict, judge_file};
    let started = Instant::now();
    match judge_file(path, limits) {
        NeuronVerdict::Valid(report) => {
            if json {
                say!("{}", report.to_json());
            } else {
                say!("{}", report.render_text().trim_end());
                say!("checked in {:.3}s", started.elapsed().as_secs_f64());
            }
            verdict::EXIT_VALID
        }
        NeuronVerdict::Failed(verdict) => conclude(&verdict, json),
    }
}

/// Prints a verdict's JSON (with `--json`) and its failure line; returns its exit code.
fn conclude(verdict: &Verdict, json: bool) -> u8 {
    if json {
        say!("{}", verdict.to_json());
    }
    if let Some(line) = verdict.failure_line() {
        eprintln!("slth: {line}");
    }
    verdict.exit_code()
}
