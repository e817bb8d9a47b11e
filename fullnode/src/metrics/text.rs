//! The Prometheus text exposition format, version 0.0.4: `# HELP` and
//! `# TYPE` lines, then one `name{label="value"} number` line per sample.

use std::fmt::Write;

use super::histogram::Histogram;

/// What a metric family is.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample's value.
pub(super) trait SampleValue {
    fn write_to(&self, out: &mut String);
}

impl SampleValue for u64 {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl SampleValue for usize {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl SampleValue for f64 {
    fn write_to(&self, out: &mut String) {
        // Rust writes `inf` and `NaN`; the format wants `+Inf`, `-Inf`, `NaN`.
        // Finite values print in plain decimal (never with an exponent),
        // which every parser of the format reads.
        if self.is_nan() {
            out.push_str("NaN");
        } else if self.is_infinite() {
            out.push_str(if *self > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(out, "{self}");
        }
    }
}

/// A text exposition being written.
#[derive(Debug, Default)]
pub(super) struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a family: its help text (one line, no backslash) and kind.
    pub(super) fn family(&mut self, name: &str, kind: Kind, help: &str) {
        debug_assert!(
            !help.contains(['\\', '\n']),
            "help of {name} needs escaping"
        );
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
    }

    /// One sample.
    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl SampleValue) {
        self.out.push_str(name);
        self.labels(labels, None);
        self.out.push(' ');
        value.write_to(&mut self.out);
        self.out.push('\n');
    }

    /// The `_bucket`, `_sum` and `_count` samples of one histogram.
    pub(super) fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        for (bound, count) in histogram.cumulative() {
            let _ = write!(self.out, "{name}_bucket");
            let mut le = String::new();
            bound.write_to(&mut le);
            self.labels(labels, Some(&le));
            let _ = writeln!(self.out, " {count}");
        }
        self.sample(&format!("{name}_sum"), labels, histogram.sum());
        self.sample(&format!("{name}_count"), labels, histogram.count());
    }

    /// The text, ending with a newline.
    pub(super) fn finish(self) -> String {
        self.out
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        let le = le.map(|le| ("le", le));
        let mut labels = labels.iter().copied().chain(le).peekable();
        if labels.peek().is_none() {
            return;
        }
        self.out.push('{');
        for (index, (name, value)) in labels.enumerate() {
            if index > 0 {
                self.out.push(',');
            }
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_label_value(value, &mut self.out);
            self.out.push('"');
        }
        self.out.push('}');
    }
}

/// A label value with `\`, `"` and newlines escaped, as the format requires.
fn escape_label_value(value: &str, out: &mut String) {
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn samples_histograms_and_special_values_follow_the_format() {
        let mut text = Exposition::default();
        text.family("up_total", Kind::Counter, "Things.");
        text.sample("up_total", &[], 3u64);
        text.family("odd", Kind::Gauge, "Odd values.");
        text.sample("odd", &[("route", "/a/{b}"), ("x", "q\"\\\n")], f64::NAN);
        text.sample("odd", &[("route", "/c")], f64::NEG_INFINITY);
        text.sample("odd", &[("route", "/d")], 0.000_000_1);
        let mut latency = Histogram::new(&[0.5]);
        latency.observe(Duration::from_millis(250));
        text.family("latency_seconds", Kind::Histogram, "Latency.");
        text.histogram("latency_seconds", &[("op", "read")], &latency);
        assert_eq!(
            text.finish(),
            "# HELP up_total Things.\n\
             # TYPE up_total counter\n\
             up_total 3\n\
             # HELP odd Odd values.\n\
             # TYPE odd gauge\n\
             odd{route=\"/a/{b}\",x=\"q\\\"\\\\\\n\"} NaN\n\
             odd{route=\"/c\"} -Inf\n\
             odd{route=\"/d\"} 0.0000001\n\
             # HELP latency_seconds Latency.\n\
             # TYPE latency_seconds histogram\n\
             latency_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n\
             latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 1\n\
             latency_seconds_sum{op=\"read\"} 0.25\n\
             latency_seconds_count{op=\"read\"} 1\n"
        );
    }
}
