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
    slth::progress::show(!cli.quiet);
    match run(cli.command, cli.quiet) {
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
fn run(command: Command, quiet: bool) -> Result<u8, Error> {
    use slth::progress::Progress;
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
            let writing = Progress::spinner("writing the certificate");
            let output = args.output.as_deref();
            let encoding = slth::write::Encoding::for_output(args.encoding.map(Into::into), output);
            slth::write::write_certified(output, &certified.head, &certified.ticket, encoding)?;
            drop(writing);
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
            if let Some(refusal) = &certified.default_limits_refuse {
                eprintln!(
                    "note: the certificate is valid (checked without resource limits), but \
                     `slth verify` with its default limits refuses it ({refusal}); raise the \
                     limit named there to verify it"
                );
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
            let step = Progress::spinner("drawing the target and proving its norms");
            let target =
                slth::generate::random_target(&args.dims, &seed, args.linear_output, &range)?;
            let text = target.to_json_text();
            drop(step);
            slth::write::write_output(args.output.as_deref(), &text)?;
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
            if args.json {
                say!("{}", evaluation.json);
            } else {
                print!("{}", evaluation.text);
            }
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
        Command::Report(args) => report_command(&args)?,
        Command::Sweep(args) => sweep_command(&args)?,
        Command::Tighten(args) => tighten_command(&args)?,
        Command::Attack(args) => {
            let limits = Limits::from(&args.limits);
            let options = args.options()?;
            let attack = slth::attack::attack_file(&args.certificate, &options, &limits)?;
            if let Some(path) = &args.point_out {
                attack.write_point(path)?;
            }
            if args.json {
                say!("{}", attack.to_json());
            } else if quiet {
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

/// `slth report`: the figure of one certificate (SVG) and its numbers (JSON).
fn report_command(args: &slth::cli::ReportArgs) -> Result<(), Error> {
    let svg_out = args.output.as_deref();
    if svg_out.is_none() && !args.json {
        return Err(Error::usage(
            "output",
            "give -o FILE.svg for the figure, or --json for its numbers",
        ));
    }
    if args.json && svg_out == Some(Path::new("-")) {
        return Err(Error::usage(
            "json",
            "--json prints its object on stdout: give -o a file",
        ));
    }
    slth::write::check_output(svg_out)?;
    let limits = Limits::from(&args.limits);
    let mut report = slth::report::report_file(&args.certificate, &limits)?;
    if let Some(path) = &args.attack_json {
        report.read_attack_json(path)?;
    } else if args.attack {
        let started = Instant::now();
        let options = slth::attack::AttackOptions::new(slth_checker::sampler::Seed::from_u64(0));
        let attack = slth::attack::attack_file(&args.certificate, &options, &limits)?;
        eprintln!(
            "attack: {} (in {:.2}s)",
            attack.bracket_line(),
            started.elapsed().as_secs_f64()
        );
        report.set_attack(&attack, "0");
    }
    if svg_out.is_some() {
        let svg = slth::report::draw::svg(&report).map_err(|e| Error::usage("output", e))?;
        slth::write::write_output(svg_out, &svg)?;
    }
    if args.json {
        say!("{}", report.to_json());
    }
    Ok(())
}

/// `slth tighten`: the terms (or the joint form), the output file and one summary line on
/// stderr.
fn tighten_command(args: &slth::cli::TightenArgs) -> Result<(), Error> {
    let output = Some(args.output.as_path());
    slth::write::check_output(output)?;
    let started = Instant::now();
    let limits = Limits::from(&args.limits);
    let claims = if args.joint {
        slth::tighten::Claims::Joint
    } else {
        slth::tighten::Claims::Terms
    };
    let step = slth::progress::Progress::spinner(claims.searching());
    let tightened = slth::tighten::tighten_file_with(&args.certificate, &limits, claims)?;
    drop(step);
    let encoding = slth::write::Encoding::for_output(None, output);
    slth::write::write_certificate(output, &tightened.certificate, encoding)?;
    eprintln!("{}", tightened.summary(started.elapsed().as_secs_f64()));
    if let Some(refusal) = &tightened.default_limits_refuse {
        eprintln!(
            "note: the certificate is valid (checked without resource limits), but `slth \
             verify` with its default limits refuses it ({refusal}); raise the limit named \
             there to verify it"
        );
    }
    Ok(())
}

/// `slth sweep`: certify at every epsilon with both constructions; CSV, JSON, SVG.
fn sweep_command(args: &slth::cli::SweepArgs) -> Result<(), Error> {
    let options = args.options()?;
    let svg_out = args.output.as_deref();
    let stdout_taken = [
        svg_out == Some(Path::new("-")),
        args.csv.as_deref() == Some(Path::new("-")),
        args.json,
    ];
    if stdout_taken.iter().filter(|t| **t).count() > 1 {
        return Err(Error::usage(
            "output",
            "only one of -o -, --csv - and --json can use standard output",
        ));
    }
    slth::write::check_output(svg_out)?;
    slth::write::check_output(args.csv.as_deref())?;
    let sweep = slth::sweep::sweep_file(&args.target, &options, |line| eprintln!("{line}"))?;
    if svg_out.is_some() {
        let svg = slth::sweep::draw::svg(&sweep).map_err(|e| Error::usage("output", e))?;
        slth::write::write_output(svg_out, &svg)?;
    }
    let csv = sweep.to_csv();
    match &args.csv {
        Some(path) => slth::write::write_output(Some(path), &csv)?,
        None if !args.json && svg_out != Some(Path::new("-")) => print!("{csv}"),
        None => {}
    }
    if args.json {
        say!("{}", sweep.to_json());
    }
    Ok(())
}

/// `slth verify`: the checker's verdict (with `--f64`, also the plain f64 estimate), printed
/// as text or JSON; the exit code is always the checker's verdict's.
fn verify(path: &Path, json: bool, exact: bool, plain_f64: bool, limits: &Limits) -> u8 {
    use slth::progress::Progress;
    let started = Instant::now();
    let file = path.display().to_string();
    let reading = Progress::spinner("reading the certificate");
    let read = verdict::read_to_judge(path, limits);
    drop(reading);
    let certificate = match read {
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
        let step = Progress::spinner("recomputing the kept weights from the seed (path sums)");
        let checked = match slth_checker::verify::check_structure_with(&certificate, limits) {
            Ok(checked) => checked,
            Err(rejection) => return conclude(&Verdict::of_rejection(&file, rejection), json),
        };
        step.message(|| "plain f64 estimate".into());
        let estimate = slth::fast::estimate(&checked);
        step.message(|| "deciding the inequalities (witnesses, terms, chain)".into());
        let verdict =
            verdict::judge_checked(&file, &certificate, checked, limits, Arithmetic::Sound);
        drop(step);
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
    let step = Progress::spinner("recomputing the kept weights from the seed (path sums)");
    let verdict = match slth_checker::verify::check_structure_with(&certificate, limits) {
        Ok(checked) => {
            step.message(|| "deciding the inequalities (witnesses, terms, chain)".into());
            verdict::judge_checked(&file, &certificate, checked, limits, arithmetic)
        }
        Err(rejection) => Verdict::of_rejection(&file, rejection),
    };
    drop(step);
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
