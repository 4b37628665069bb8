//! Medians, 99th percentiles and the small tables every benchmark prints.

use std::fmt::Write as _;
use std::time::Duration;

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Durations of one measured thing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples(Vec<Duration>);

impl Samples {
    pub(crate) fn new() -> Samples {
        Samples(Vec::new())
    }

    pub(crate) fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub(crate) fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }

    pub(crate) fn median(&self) -> Duration {
        percentile(&self.sorted(), 50.0).unwrap_or_default()
    }

    pub(crate) fn p99(&self) -> Duration {
        percentile(&self.sorted(), 99.0).unwrap_or_default()
    }
}

/// Medians of plain numbers (throughputs, bytes).
pub(crate) fn median_f64(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0).unwrap_or(0.0)
}

/// `850 µs`, `12.3 ms`, `4.56 s`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

pub(crate) fn fmt_bytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib >= 1.0 {
        format!("{mib:.1} MiB")
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}

/// A table with a title, a setup description and rows of cells.
pub(crate) struct Table {
    title: String,
    setup: Vec<String>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(title: &str, header: &[&str]) -> Table {
        Table {
            title: title.into(),
            setup: Vec::new(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// A timing row: what, median, p99, n, and a free-form note.
    pub(crate) fn timing(title: &str) -> Table {
        Table::new(title, &["measurement", "median", "p99", "n", "note"])
    }

    pub(crate) fn setup(&mut self, line: impl Into<String>) {
        self.setup.push(line.into());
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn samples(&mut self, what: &str, s: &Samples, note: &str) {
        self.row(vec![
            what.into(),
            fmt_duration(s.median()),
            fmt_duration(s.p99()),
            s.len().to_string(),
            note.into(),
        ]);
    }

    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "\n## {}", self.title);
        for line in &self.setup {
            let _ = writeln!(out, "   {line}");
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count())))
                })
                .collect();
            format!("| {} |", padded.join(" | "))
        };
        let _ = writeln!(out, "{}", line(&self.header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "|-{}-|", rule.join("-|-"));
        for row in &self.rows {
            let _ = writeln!(out, "{}", line(row));
        }
        out
    }

    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut s = Samples::new();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        assert_eq!(s.median(), Duration::from_millis(50));
        assert_eq!(s.p99(), Duration::from_millis(99));
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(Samples::new().median(), Duration::ZERO);
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(fmt_duration(Duration::from_micros(12_345)), "12.35 ms");
        assert_eq!(fmt_duration(Duration::from_millis(4_560)), "4.56 s");
        let mut t = Table::timing("x");
        t.samples("a", &Samples::new(), "");
        assert!(t.render().contains("| a "));
    }
}
