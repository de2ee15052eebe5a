//! The sweep's SVG: width of g and kept weights against epsilon (log-log), both
//! constructions, with Pensia et al.'s width (constant 1) and Malach et al.'s 1/epsilon
//! trend beside them.

use super::Sweep;
use crate::certify::Construction;
use crate::numbers::rational_to_f64;
use crate::report::draw::{Dashes, PALETTE, fail, short};
use crate::report::theory;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of the figure, in pixels.
pub const SIZE: (u32, u32) = (1100, 760);

/// Points (epsilon, value) of one construction's certified runs, by increasing epsilon.
fn points(
    sweep: &Sweep,
    construction: Construction,
    value: impl Fn(&super::Outcome) -> f64,
) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = sweep
        .rows
        .iter()
        .filter(|r| r.construction == construction)
        .filter_map(|r| {
            r.outcome
                .as_ref()
                .ok()
                .map(|o| (rational_to_f64(&r.epsilon), value(o)))
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The figure as SVG text.
pub fn svg(sweep: &Sweep) -> Result<String, String> {
    let epsilons: Vec<f64> = sweep.options.epsilons.iter().map(rational_to_f64).collect();
    let e_min = epsilons.iter().copied().fold(f64::INFINITY, f64::min);
    let e_max = epsilons.iter().copied().fold(0.0, f64::max);
    let (e_low, e_high) = if e_max > e_min {
        (e_min / 1.25, e_max * 1.25)
    } else {
        (e_min / 2.0, e_max * 2.0)
    };
    // The theory's curves at 40 points between the smallest and largest epsilon.
    let grid: Vec<f64> = (0..=40)
        .map(|k| e_min * (e_max / e_min).powf(k as f64 / 40.0))
        .collect();
    let pensia: Vec<(f64, f64)> = grid.iter().map(|&e| (e, sweep.pensia(e))).collect();
    let widths = |c| points(sweep, c, |o| o.total_width() as f64);
    let kept = |c| points(sweep, c, |o| o.kept_weights as f64);
    let malach: Vec<(f64, f64)> = widths(Construction::Pairs)
        .last()
        .map(|&(e0, w0)| grid.iter().map(|&e| (e, w0 * e0 / e)).collect())
        .unwrap_or_default();
    let target = sweep.target_weights() as f64;
    let all = [
        widths(Construction::SubsetSum),
        widths(Construction::Pairs),
        kept(Construction::SubsetSum),
        kept(Construction::Pairs),
        pensia.clone(),
        malach.clone(),
    ];
    let values = all
        .iter()
        .flatten()
        .map(|p| p.1)
        .chain(std::iter::once(target))
        .filter(|v| *v > 0.0);
    let low = values.clone().fold(f64::INFINITY, f64::min).min(target) / 2.0;
    let high = values.fold(1.0f64, f64::max) * 12.0;
    let dims: Vec<String> = sweep.dims.iter().map(|d| d.to_string()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let (plot, bottom) = root.split_vertically(SIZE.1 - 70);
        let mut chart = ChartBuilder::on(&plot)
            .caption(
                format!(
                    "{} ({}): width of g and kept weights against epsilon (seed {}, ||x||_2 <= {}{})",
                    sweep.target,
                    dims.join("-"),
                    sweep.options.seed_text,
                    short(rational_to_f64(&sweep.options.radius)),
                    if sweep.options.nonnegative { ", x >= 0" } else { "" }
                ),
                ("sans-serif", 17),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d((e_low..e_high).log_scale(), (low..high).log_scale())
            .map_err(fail)?;
        // The x axis is labelled at the epsilons swept, not at plotters' round numbers.
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .x_desc("epsilon requested (log scale)")
            .y_desc("hidden neurons of g, or kept weights (log scale)")
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .draw()
            .map_err(fail)?;
        let (orange, green, grey) = (PALETTE[1], PALETTE[2], RGBColor(110, 110, 110));
        let light = RGBColor(215, 215, 215);
        chart
            .draw_series(
                epsilons
                    .iter()
                    .map(|&e| PathElement::new(vec![(e, low), (e, high)], light.stroke_width(1))),
            )
            .map_err(fail)?;
        let below =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (e, text) in epsilons.iter().zip(&sweep.options.epsilons) {
            let (x, y) = chart.backend_coord(&(*e, low));
            let label = format!("{} ({})", short(*e), crate::numbers::format_rational(text));
            root.draw(&Text::new(label, (x, y + 6), below.clone()))
                .map_err(fail)?;
        }
        for (construction, c, name) in [
            (Construction::SubsetSum, orange, "subset sum"),
            (Construction::Pairs, green, "pairs"),
        ] {
            let w = widths(construction);
            chart
                .draw_series(LineSeries::new(w.clone(), c.stroke_width(3)))
                .map_err(fail)?
                .label(format!(
                    "{name}: width of g (sum of the blocks' hidden widths)"
                ))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3))
                });
            chart
                .draw_series(w.iter().map(|&p| Circle::new(p, 5, c.filled())))
                .map_err(fail)?;
            let k = kept(construction);
            chart
                .draw_series(LineSeries::new(k.clone(), c.stroke_width(1)))
                .map_err(fail)?
                .label(format!("{name}: kept weights of g~"))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(1))
                });
            chart
                .draw_series(k.iter().map(|&(x, y)| {
                    Rectangle::new(
                        [(x / 1.02, y / 1.06), (x * 1.02, y * 1.06)],
                        c.stroke_width(2),
                    )
                }))
                .map_err(fail)?;
        }
        let black = RGBColor(0, 0, 0).stroke_width(2);
        let dashes = Dashes(8, 5);
        chart
            .draw_series(dashes.series(pensia, black))
            .map_err(fail)?
            .label("Pensia et al.: sum_i n_(i-1) ln(n_(i-1) n_i l / epsilon), C = 1")
            .legend(dashes.swatch(20, black));
        if !malach.is_empty() {
            let (green, dashes) = (green.stroke_width(2), Dashes(3, 4));
            chart
                .draw_series(dashes.series(malach, green))
                .map_err(fail)?
                .label("Malach et al. trend 1/epsilon, through pairs at the largest epsilon")
                .legend(dashes.swatch(20, green));
        }
        let (thin, dashes) = (grey.stroke_width(1), Dashes(2, 4));
        chart
            .draw_series(dashes.series(vec![(e_low, target), (e_high, target)], thin))
            .map_err(fail)?
            .label(format!("weights of the target f: {target}"))
            .legend(dashes.swatch(20, thin));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(grey)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(fail)?;
        let lines = [
            format!("Theory drawn with constant 1 (trend up to a constant; the constants are not given). {}.", theory::PENSIA),
            format!("{}.", theory::MALACH_TREND),
            "Both constructions from the same seed; each point is a certificate slth certify would write (epsilon certified <= requested).".to_string(),
        ];
        for (k, line) in lines.iter().enumerate() {
            bottom
                .draw(&Text::new(
                    line.clone(),
                    (16, 4 + 20 * k as i32),
                    ("sans-serif", 12).into_font(),
                ))
                .map_err(fail)?;
        }
        root.present().map_err(fail)?;
    }
    Ok(svg)
}
