//! The report's SVG: four panels (the claims per block, where epsilon goes with the attack's
//! bracket, the widths of g against the theorems' formulas, the kept weights per target
//! weight) and a caption that states the formulas.

use super::{Report, theory};
use crate::numbers::rational_to_f64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of the figure, in pixels.
pub const SIZE: (u32, u32) = (1280, 1040);

/// The tab10 palette: one colour per block, then per series.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// A colour for block i (0-based).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Plotters' errors as text.
pub fn fail<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A number in at most 4 significant digits, plain when moderate, else scientific.
pub fn short(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-2..1e5).contains(&x.abs()) {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{x:.digits$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    } else {
        format!("{x:.2e}")
    }
}

/// The label of the block at a category coordinate (blocks at 0, 1, ...).
fn block_label(x: &f64, blocks: usize) -> String {
    let k = x.round();
    if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < blocks {
        format!("block {}", k as usize + 1)
    } else {
        String::new()
    }
}

/// A legend swatch.
fn swatch(c: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled())
}

/// The dashes of a dashed series, in pixels: dash length and gap.
#[derive(Clone, Copy)]
pub struct Dashes(pub i32, pub i32);

impl Dashes {
    /// The series through `points` in these dashes.
    pub fn series<C: Clone>(
        self,
        points: Vec<C>,
        style: ShapeStyle,
    ) -> DashedLineSeries<std::vec::IntoIter<C>, i32> {
        DashedLineSeries::new(points, self.0, self.1, style)
    }

    /// Its legend swatch: `width` pixels of the series' style in the same dashes.
    pub fn swatch(
        self,
        width: i32,
        style: ShapeStyle,
    ) -> impl Fn((i32, i32)) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
        move |(x, y)| DashedPathElement::new(vec![(x, y), (x + width, y)], self.0, self.1, style)
    }
}

/// The figure as SVG text.
pub fn svg(report: &Report) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let (top, rest) = root.split_vertically(56);
        let (middle, bottom) = rest.split_vertically(SIZE.1 - 56 - 130);
        title(&top, report)?;
        let panels = middle.split_evenly((2, 2));
        claims_panel(&panels[0], report)?;
        budget_panel(&panels[1], report)?;
        widths_panel(&panels[2], report)?;
        kept_panel(&panels[3], report)?;
        caption(&bottom, report)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

fn text_at(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    text: &str,
    at: (i32, i32),
    size: u32,
) -> Result<(), String> {
    area.draw(&Text::new(
        text.to_string(),
        at,
        ("sans-serif", size).into_font(),
    ))
    .map_err(fail)
}

fn title(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let dims: Vec<String> = report.dims.iter().map(|d| d.to_string()).collect();
    let orthant = if report.nonnegative { ", x >= 0" } else { "" };
    let construction = report
        .construction
        .as_deref()
        .map(|c| format!(", {c} construction"))
        .unwrap_or_default();
    text_at(
        area,
        &format!(
            "Certificate {} (format version {}): target {}{construction}",
            report.file,
            report.version,
            dims.join("-")
        ),
        (16, 8),
        20,
    )?;
    text_at(
        area,
        &format!(
            "claim: ||g~(x) - f(x)||_2 <= epsilon = {} for ||x||_2 <= {}{orthant} (read, not verified: `slth verify` proves it)",
            short(rational_to_f64(&report.epsilon)),
            short(rational_to_f64(&report.radius)),
        ),
        (16, 33),
        14,
    )
}

fn caption(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let mut lines = vec![
        "Top left: the claims per block (c_i error, L_i Lipschitz, e_i the chain bound of docs/FORMAT.md 6.3; lambda_i the version 2 terms of section 12). Top right: the chain bound split exactly into one part per block, e_l = sum_i c_i a_(i-1) prod_(k>i) (L_k + c_k) with a_(i-1) = r L_1 ... L_(i-1); for version 2 also r lambda_i, whose sum is the second bound, or the joint form's r lambda (one bound for all blocks at once, section 12.10); epsilon must cover one of them.".to_string(),
        format!("Bottom left, widths of g per block with the theorems' formulas drawn with constant 1 (their constants are not given; trend up to a constant): {}.", theory::PENSIA),
        format!("{}.", theory::MALACH),
    ];
    if let Some(attack) = &report.attack {
        lines.push(format!(
            "Attack bracket: {} <= sup ||g~(x) - f(x)||_2 <= epsilon; the lower bound is exact at a point found by {}.",
            attack.lower_text, attack.source
        ));
    }
    for (k, line) in lines.iter().flat_map(|l| wrap(l, 228)).enumerate() {
        text_at(area, &line, (16, 4 + 16 * k as i32), 12)?;
    }
    Ok(())
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays
/// whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// Top left: c_i, L_i, e_i (and lambda_i) per block, log scale.
fn claims_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let l = report.blocks.len();
    let mut series: Vec<(&str, Vec<f64>)> = vec![
        (
            "c_i (block error)",
            report
                .blocks
                .iter()
                .map(|b| rational_to_f64(&b.error))
                .collect(),
        ),
        (
            "L_i (Lipschitz)",
            report
                .blocks
                .iter()
                .map(|b| rational_to_f64(&b.lipschitz))
                .collect(),
        ),
        (
            "e_i (chain bound)",
            report
                .blocks
                .iter()
                .map(|b| rational_to_f64(&b.propagated))
                .collect(),
        ),
    ];
    if report.terms.is_some() {
        let lambdas = report
            .blocks
            .iter()
            .map(|b| b.term.as_ref().map_or(0.0, rational_to_f64))
            .collect();
        series.push(("lambda_i (v2 term)", lambdas));
    }
    let positive = series
        .iter()
        .flat_map(|s| s.1.iter())
        .copied()
        .filter(|v| *v > 0.0);
    let low = positive.clone().fold(f64::INFINITY, f64::min).min(1.0) / 3.0;
    let high = positive.fold(0.0f64, f64::max).max(low * 10.0) * 40.0;
    let mut chart = ChartBuilder::on(area)
        .caption("Claims per block", ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(l as f64 - 0.5), (low..high).log_scale())
        .map_err(fail)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(l)
        .x_label_formatter(&|x| block_label(x, l))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .y_desc("value (log scale)")
        .draw()
        .map_err(fail)?;
    let k = series.len() as f64;
    let bar = 0.8 / k;
    for (s, (name, values)) in series.iter().enumerate() {
        let c = PALETTE[s];
        let left = |i: usize| i as f64 - 0.4 + s as f64 * bar;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Rectangle::new(
                    [(left(i), low), (left(i) + bar * 0.92, v.max(low))],
                    c.filled(),
                )
            }))
            .map_err(fail)?
            .label(*name)
            .legend(swatch(c));
        let style = TextStyle::from(("sans-serif", 10).into_font())
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Text::new(
                    short(*v),
                    (left(i) + bar * 0.46, v.max(low) * 1.15),
                    style.clone(),
                )
            }))
            .map_err(fail)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(120, 120, 120))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(fail)
}

/// Top right: e_l split into the blocks' contributions, r lambda_i for version 2, the
/// certified epsilon and the attack's lower bound.
fn budget_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let chain: Vec<f64> = report
        .blocks
        .iter()
        .map(|b| rational_to_f64(&b.contribution))
        .collect();
    let radius = rational_to_f64(&report.radius);
    let mut rows: Vec<(String, String, Vec<f64>)> =
        vec![("chain bound (v1)".into(), "e_l".into(), chain)];
    if report.terms.is_some() {
        let terms = report
            .blocks
            .iter()
            .map(|b| radius * b.term.as_ref().map_or(0.0, rational_to_f64))
            .collect();
        rows.push(("terms (v2)".into(), "r sum lambda_i".into(), terms));
    }
    // The joint form bounds the whole error at once: one bar, not split by block.
    let whole_row = report.joint.as_ref().map(|joint| {
        rows.push((
            "joint form (v2)".into(),
            "r lambda".into(),
            vec![rational_to_f64(joint)],
        ));
        rows.len() - 1
    });
    let whole = |k: usize| whole_row == Some(k);
    let epsilon = rational_to_f64(&report.epsilon);
    let lower = report.attack.as_ref().map(|a| rational_to_f64(&a.lower));
    let widest = rows
        .iter()
        .map(|r| r.2.iter().sum::<f64>())
        .fold(epsilon.max(lower.unwrap_or(0.0)), f64::max);
    // An empty range (every number 0) would stall plotters' axis: draw 0..1 then.
    let widest = if widest > 0.0 && widest.is_finite() {
        widest
    } else {
        1.0
    };
    let n = rows.len();
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Where epsilon goes (each block's part of the bound)",
            ("sans-serif", 17),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(120)
        .build_cartesian_2d(0.0..widest * 1.32, -0.6..(n as f64 + 0.9))
        .map_err(fail)?;
    let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let row_label = move |y: &f64| {
        let k = y.round();
        if (y - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < names.len() {
            names[names.len() - 1 - k as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n + 2)
        .y_label_formatter(&row_label)
        .x_label_formatter(&|x| short(*x))
        .x_desc("||g~(x) - f(x)||_2")
        .draw()
        .map_err(fail)?;
    let inside = ("sans-serif", 11)
        .into_font()
        .color(&WHITE)
        .pos(Pos::new(HPos::Center, VPos::Center));
    // The bars, then the lines of epsilon and of the attack, then the labels over both (a
    // patch of the bar's colour behind each share keeps it readable where a line crosses).
    let bars = |k: usize, parts: &[f64]| {
        let y = (n - 1 - k) as f64;
        let mut start = 0.0;
        parts
            .iter()
            .map(|part| {
                let bar = (start, *part, y);
                start += part;
                bar
            })
            .collect::<Vec<_>>()
    };
    for (k, (_, _, parts)) in rows.iter().enumerate() {
        for (i, (start, part, y)) in bars(k, parts).into_iter().enumerate() {
            let fill = if whole(k) {
                RGBColor(130, 130, 130)
            } else {
                colour(i)
            };
            let rectangle =
                Rectangle::new([(start, y - 0.3), (start + part, y + 0.3)], fill.filled());
            let series = chart
                .draw_series(std::iter::once(rectangle))
                .map_err(fail)?;
            if k == 0 {
                series
                    .label(format!("block {}", i + 1))
                    .legend(swatch(colour(i)));
            }
        }
    }
    let top = n as f64 - 0.45;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(epsilon, -0.5), (epsilon, top)],
            BLACK.stroke_width(2),
        )))
        .map_err(fail)?
        .label(format!("certified epsilon {}", short(epsilon)))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(2)));
    if let Some(lower) = lower {
        let red = RGBColor(200, 0, 0).stroke_width(2);
        let dashes = Dashes(5, 4);
        chart
            .draw_series(dashes.series(vec![(lower, -0.5), (lower, top)], red))
            .map_err(fail)?
            .label(format!("attack: proven lower bound {}", short(lower)))
            .legend(dashes.swatch(14, red));
    }
    for (k, (_, symbol, parts)) in rows.iter().enumerate() {
        let y = (n - 1 - k) as f64;
        let total: f64 = parts.iter().sum();
        for (i, (start, part, y)) in bars(k, parts).into_iter().enumerate() {
            if part > widest * 0.07 && !whole(k) {
                let share = format!("{:.0}%", 100.0 * part / total);
                let centre = (start + part / 2.0, y);
                // about the text's extent at 11 pixels and a pixel or two around it, within
                // the bar
                let (left, right) = (
                    chart.backend_coord(&(start, y)).0,
                    chart.backend_coord(&(start + part, y)).0,
                );
                let half = ((share.len() as i32 * 7 + 4) / 2).min((right - left) / 2);
                let patch = EmptyElement::at(centre)
                    + Rectangle::new([(-half, -7), (half, 7)], colour(i).filled());
                chart.draw_series(std::iter::once(patch)).map_err(fail)?;
                chart
                    .draw_series(std::iter::once(Text::new(share, centre, inside.clone())))
                    .map_err(fail)?;
            }
        }
        let end =
            TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{symbol} = {}", short(total)),
                (total + widest * 0.012, y),
                end,
            )))
            .map_err(fail)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Bottom left: the hidden width of g per block against the theorems' formulas.
fn widths_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let l = report.blocks.len();
    let epsilon = rational_to_f64(&report.epsilon);
    let series: Vec<(&str, RGBColor, Vec<f64>)> = vec![
        (
            "width of g (certified)",
            PALETTE[0],
            report
                .blocks
                .iter()
                .map(|b| b.hidden_width as f64)
                .collect(),
        ),
        (
            "Pensia et al., C = 1",
            PALETTE[1],
            report
                .blocks
                .iter()
                .map(|b| theory::pensia_width(b.n_in, b.n_out, l, epsilon))
                .collect(),
        ),
        (
            "Malach et al. n_(i-1) d^4 l^2, C = 1",
            PALETTE[2],
            report
                .blocks
                .iter()
                .map(|b| theory::malach_width(b.n_in, &report.dims))
                .collect(),
        ),
    ];
    // Pensia et al.'s width is infinite at epsilon 0 (and an infinite axis would stall
    // plotters): such a bar is left out.
    let series: Vec<(&str, RGBColor, Vec<f64>)> = series
        .into_iter()
        .map(|(name, c, values)| {
            (
                name,
                c,
                values
                    .into_iter()
                    .map(|v| if v.is_finite() { v } else { 0.0 })
                    .collect(),
            )
        })
        .collect();
    let high = series
        .iter()
        .flat_map(|s| s.2.iter())
        .fold(1.0f64, |a, b| a.max(*b))
        * 2000.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Hidden width of g per block, and the theory's width",
            ("sans-serif", 17),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(l as f64 - 0.5), (1.0..high).log_scale())
        .map_err(fail)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(l)
        .x_label_formatter(&|x| block_label(x, l))
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .y_desc("hidden neurons (log scale)")
        .draw()
        .map_err(fail)?;
    let bar = 0.8 / series.len() as f64;
    let on_top =
        TextStyle::from(("sans-serif", 10).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (s, (name, c, values)) in series.iter().enumerate() {
        let left = |i: usize| i as f64 - 0.4 + s as f64 * bar;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Rectangle::new(
                    [(left(i), 1.0), (left(i) + bar * 0.92, v.max(1.0))],
                    c.filled(),
                )
            }))
            .map_err(fail)?
            .label(*name)
            .legend(swatch(*c));
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Text::new(
                    short(v.round()),
                    (left(i) + bar * 0.46, v.max(1.0) * 1.2),
                    on_top.clone(),
                )
            }))
            .map_err(fail)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// Bottom right: kept weights per target weight, per block (hidden and output edges).
fn kept_panel(area: &DrawingArea<SVGBackend<'_>, Shift>, report: &Report) -> Result<(), String> {
    let l = report.blocks.len();
    let (kept, target) = report.kept();
    let overall = kept as f64 / target.max(1) as f64;
    let per = |b: &super::BlockReport, n: usize| n as f64 / (b.n_in * b.n_out).max(1) as f64;
    let high = report
        .blocks
        .iter()
        .map(|b| b.kept_per_target_weight())
        .fold(overall, f64::max);
    let high = if high > 0.0 && high.is_finite() {
        high * 1.35
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(area)
        .caption("Kept weights of g~ per weight of f", ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5..(l as f64 - 0.5), 0.0..high)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(l)
        .x_label_formatter(&|x| block_label(x, l))
        .y_label_formatter(&|y| short(*y))
        .y_desc("kept weights / target weights")
        .draw()
        .map_err(fail)?;
    let (light, dark) = (RGBColor(158, 202, 225), RGBColor(49, 130, 189));
    chart
        .draw_series(report.blocks.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, per(b, b.kept_hidden))],
                light.filled(),
            )
        }))
        .map_err(fail)?
        .label("hidden edges (U)")
        .legend(swatch(light));
    chart
        .draw_series(report.blocks.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            let h = per(b, b.kept_hidden);
            Rectangle::new(
                [(x - 0.3, h), (x + 0.3, h + per(b, b.kept_output))],
                dark.filled(),
            )
        }))
        .map_err(fail)?
        .label("output edges (V)")
        .legend(swatch(dark));
    let inside = ("sans-serif", 12)
        .into_font()
        .color(&WHITE)
        .pos(Pos::new(HPos::Center, VPos::Top));
    chart
        .draw_series(report.blocks.iter().enumerate().map(|(i, b)| {
            let label = format!(
                "{} ({} of {})",
                short(b.kept_per_target_weight()),
                b.kept(),
                b.n_in * b.n_out
            );
            Text::new(
                label,
                (i as f64, b.kept_per_target_weight() - high * 0.02),
                inside.clone(),
            )
        }))
        .map_err(fail)?;
    let grey = RGBColor(90, 90, 90).stroke_width(1);
    let dashes = Dashes(6, 4);
    chart
        .draw_series(dashes.series(vec![(-0.5, overall), (l as f64 - 0.5, overall)], grey))
        .map_err(fail)?
        .label(format!(
            "whole ticket: {} ({kept} of {target})",
            short(overall)
        ))
        .legend(dashes.swatch(14, grey));
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}
