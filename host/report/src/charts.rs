//! The report's charts: SVG line charts drawn by `plotters`, returned as text
//! to inline in the page.

use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

/// One line of a chart.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Colours of the lines, in order (colour-blind safe: Okabe and Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
];

const SIZE: (u32, u32) = (900, 260);

/// What a chart's x axis measures.
#[derive(Clone, Copy)]
pub enum XAxis {
    /// Seconds since the run started, linear.
    Seconds,
    /// Latency in milliseconds, logarithmic.
    LogMs,
}

/// A chart of `lines`. Its legend is not drawn in the SVG, where it would
/// hide the lines: the page shows it in a row under the chart ([`Chart::labels`]).
pub struct Chart<'a> {
    pub x: XAxis,
    pub y_label: &'a str,
    /// The x axis's span, to align charts over the same time; by default,
    /// from the first point to the last.
    pub x_range: Option<(f64, f64)>,
    pub lines: Vec<Line>,
}

impl Chart<'_> {
    /// The chart as an SVG document, or why it could not be drawn.
    pub fn svg(&self) -> Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(svg)
    }

    /// The lines' labels with their colours, for the legend under the chart.
    pub fn labels(&self) -> impl Iterator<Item = (&str, RGBColor)> {
        (self.lines.iter().enumerate())
            .map(|(index, line)| (line.label.as_str(), PALETTE[index % PALETTE.len()]))
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let all = || self.lines.iter().flat_map(|line| line.points.iter());
        let (x_min, x_max) = self.x_range.unwrap_or_else(|| {
            let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let x_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            (x_min, x_max)
        });
        let y_max = all().map(|p| p.1).fold(0.0, f64::max);
        // The axis starts where the data starts, not at 0 before the first
        // interval has ended.
        let (x_min, x_max) = match (x_min.is_finite() && x_max.is_finite(), self.x) {
            (false, _) => (0.0, 1.0),
            (true, XAxis::LogMs) => (x_min.max(1e-3), x_max.max(x_min * 10.0)),
            (true, XAxis::Seconds) => (x_min, x_max.max(x_min + 1.0)),
        };
        let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
        let mut builder = ChartBuilder::on(root);
        builder
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64);
        match self.x {
            XAxis::LogMs => {
                self.draw_on(builder.build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?)
            }
            XAxis::Seconds => self.draw_on(builder.build_cartesian_2d(x_min..x_max, 0.0..y_max)?),
        }
    }

    fn draw_on<'b, X, Y>(
        &self,
        mut chart: ChartContext<'b, SVGBackend<'b>, Cartesian2d<X, Y>>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
    where
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let (x_label, x_tick): (_, fn(f64) -> String) = match self.x {
            XAxis::Seconds => ("time (s)", plain),
            XAxis::LogMs => ("latency (ms)", |v| tick(v, v)),
        };
        let y_max = chart.y_range().end;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(self.y_label)
            .x_label_formatter(&|v| x_tick(*v))
            .y_label_formatter(&|v| tick(*v, y_max))
            .light_line_style(WHITE)
            .draw()?;
        for (line, (_, colour)) in self.lines.iter().zip(self.labels()) {
            let style = colour.stroke_width(2);
            chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
        }
        Ok(())
    }
}

/// A tick label as people write numbers: `70k`, `2.5`, `0.05`, never
/// `70000.0`; in thousands or millions from `unit_of` on (the axis's
/// largest value, so that all its ticks share a unit).
pub fn tick(value: f64, unit_of: f64) -> String {
    let magnitude = unit_of.abs();
    if value == 0.0 {
        "0".to_string()
    } else if magnitude >= 1e7 {
        format!("{}M", plain(value / 1e6))
    } else if magnitude >= 1e4 {
        format!("{}k", plain(value / 1e3))
    } else {
        plain(value)
    }
}

/// `value` to four significant digits at most, without trailing zeros.
pub fn plain(value: f64) -> String {
    let decimals = if value == 0.0 || !value.is_finite() {
        0
    } else {
        (3 - value.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    let text = format!("{value:.decimals$}");
    let text = match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.'),
        false => &text,
    };
    match text {
        "-0" => "0".to_string(),
        text => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_as_people_write_numbers() {
        let shown: Vec<_> = [0.0, 0.5, 0.3000000000000001, 2.0, 12.5, 2000.0, 0.0005]
            .into_iter()
            .map(|v| tick(v, 9000.0))
            .collect();
        assert_eq!(shown, ["0", "0.5", "0.3", "2", "12.5", "2000", "0.0005"]);
        let shown: Vec<_> = [0.0, 2000.0, 12500.0, 70000.0]
            .into_iter()
            .map(|v| tick(v, 77000.0))
            .collect();
        assert_eq!(shown, ["0", "2k", "12.5k", "70k"]);
        assert_eq!(tick(25e6, 25e6), "25M");
        assert_eq!(plain(86400.0), "86400");
    }
}
