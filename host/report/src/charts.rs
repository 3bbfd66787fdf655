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

/// A chart of `lines` over a linear or logarithmic x axis.
pub struct Chart<'a> {
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub log_x: bool,
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

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let all = || self.lines.iter().flat_map(|line| line.points.iter());
        let x_min = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let x_max = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let y_max = all().map(|p| p.1).fold(0.0, f64::max);
        let (x_min, x_max) = match (x_min.is_finite(), self.log_x) {
            (false, _) => (0.0, 1.0),
            (true, true) => (x_min.max(1e-3), x_max.max(x_min * 10.0)),
            (true, false) => (x_min.min(0.0), x_max.max(x_min + 1.0)),
        };
        let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };
        let mut builder = ChartBuilder::on(root);
        builder
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64);
        if self.log_x {
            self.draw_on(builder.build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?)
        } else {
            self.draw_on(builder.build_cartesian_2d(x_min..x_max, 0.0..y_max)?)
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
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .light_line_style(WHITE)
            .draw()?;
        for (index, line) in self.lines.iter().enumerate() {
            let style = PALETTE[index % PALETTE.len()].stroke_width(2);
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), style))?
                .label(svg_text(&line.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        if self.lines.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        Ok(())
    }
}

/// A label safe to place in SVG text whatever plotters escapes: guest-chosen
/// request names reach the legend.
fn svg_text(label: &str) -> String {
    let safe = label.replace('&', "+").replace(['<', '>', '"', '\''], "_");
    match safe.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &safe[..cut]),
        None => safe,
    }
}
