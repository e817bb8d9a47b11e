//! A strict reader of the text the node serves at `GET /metrics` (the
//! OpenMetrics text format as prometheus-client writes it), for tests: any
//! line outside the grammar, a sample outside its family, a histogram whose
//! buckets disagree with its count, or a missing `# EOF` is an error.

use std::collections::BTreeMap;

/// The type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
    Info,
    Unknown,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "info" => Kind::Info,
            "unknown" => Kind::Unknown,
            _ => return None,
        })
    }

    /// The suffixes its sample names may add to the family name.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Counter => &["_total", "_created"],
            Kind::Gauge | Kind::Unknown => &[""],
            Kind::Histogram => &["_bucket", "_sum", "_count", "_created"],
            Kind::Info => &["_info"],
        }
    }
}

/// A sample's labels, as (name, value) pairs.
type Labels = Vec<(String, String)>;

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    /// The sample's name (`x_total`, `x_bucket`, …).
    pub(crate) name: String,
    /// Its labels, sorted by name.
    pub(crate) labels: Labels,
    pub(crate) value: f64,
}

/// A metric family: its `# HELP`, `# TYPE` and samples.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Family {
    pub(crate) kind: Kind,
    pub(crate) help: String,
    pub(crate) samples: Vec<Sample>,
}

/// A parsed exposition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exposition {
    /// The families by name.
    pub(crate) families: BTreeMap<String, Family>,
}

impl Exposition {
    /// Reads `text`; the error names the line that does not parse and why.
    pub(crate) fn parse(text: &str) -> Result<Exposition, String> {
        let body = text
            .strip_suffix("# EOF\n")
            .ok_or("the text does not end with `# EOF`")?;
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        let mut current: Option<String> = None;
        let mut lines = body.lines().enumerate().peekable();
        while let Some((index, line)) = lines.next() {
            let error = |why: &str| format!("line {}: {why}: {line:?}", index + 1);
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').ok_or_else(|| error("no help text"))?;
                check_name(name).map_err(|why| error(&why))?;
                let kind = match lines.next() {
                    Some((_, type_line)) => type_line
                        .strip_prefix("# TYPE ")
                        .and_then(|rest| rest.split_once(' '))
                        .filter(|(type_name, _)| *type_name == name)
                        .and_then(|(_, kind)| Kind::parse(kind))
                        .ok_or_else(|| error("HELP is not followed by its TYPE"))?,
                    None => return Err(error("HELP is not followed by its TYPE")),
                };
                if let Some((_, unit_line)) = lines.peek()
                    && let Some(rest) = unit_line.strip_prefix("# UNIT ")
                {
                    let (unit_name, unit) = rest
                        .split_once(' ')
                        .ok_or_else(|| error("malformed UNIT"))?;
                    if unit_name != name || !name.ends_with(&format!("_{unit}")) {
                        return Err(error("UNIT does not match its family"));
                    }
                    lines.next();
                }
                let family = Family {
                    kind,
                    help: help.to_owned(),
                    samples: Vec::new(),
                };
                if families.insert(name.to_owned(), family).is_some() {
                    return Err(error("a second family of this name"));
                }
                current = Some(name.to_owned());
            } else if line.starts_with('#') {
                return Err(error("a comment outside the grammar"));
            } else {
                let sample = parse_sample(line).map_err(|why| error(&why))?;
                let family_name = current
                    .as_deref()
                    .ok_or_else(|| error("a sample before any family"))?;
                let family = families
                    .get_mut(family_name)
                    .ok_or_else(|| error("a sample of an unknown family"))?;
                let suffix = sample
                    .name
                    .strip_prefix(family_name)
                    .ok_or_else(|| error("a sample outside its family"))?;
                if !family.kind.suffixes().contains(&suffix) {
                    return Err(error("a sample name its family's type does not have"));
                }
                let has_le = sample.labels.iter().any(|(label, _)| label == "le");
                if has_le != (family.kind == Kind::Histogram && suffix == "_bucket") {
                    return Err(error(
                        "`le` on a sample that is not a bucket, or a bucket without it",
                    ));
                }
                family.samples.push(sample);
            }
        }
        for (name, family) in &families {
            if family.kind == Kind::Histogram {
                check_histogram(family).map_err(|why| format!("histogram {name}: {why}"))?;
            }
        }
        Ok(Exposition { families })
    }

    /// The family that a sample named `name` belongs to.
    fn family_of(&self, name: &str) -> Option<&Family> {
        self.families
            .iter()
            .find(|(family, info)| {
                name.strip_prefix(family.as_str())
                    .is_some_and(|suffix| info.kind.suffixes().contains(&suffix))
            })
            .map(|(_, family)| family)
    }

    /// The value of the sample named `name` with exactly `labels` (in any
    /// order); a histogram's name stands for its `_count`. None when the
    /// family has no such sample; panics when there is no such family.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let name = match self.families.get(name) {
            Some(family) if family.kind == Kind::Histogram => format!("{name}_count"),
            _ => name.to_owned(),
        };
        let family = self
            .family_of(&name)
            .unwrap_or_else(|| panic!("no family of {name} in {:?}", self.names()));
        let mut wanted: Labels = labels
            .iter()
            .map(|(label, value)| ((*label).to_owned(), (*value).to_owned()))
            .collect();
        wanted.sort();
        family
            .samples
            .iter()
            .find(|sample| sample.name == name && sample.labels == wanted)
            .map(|sample| sample.value)
    }

    /// The sum of the samples named `name`, whatever their labels.
    pub(crate) fn total(&self, name: &str) -> f64 {
        self.family_of(name)
            .unwrap_or_else(|| panic!("no family of {name} in {:?}", self.names()))
            .samples
            .iter()
            .filter(|sample| sample.name == name)
            .map(|sample| sample.value)
            .sum()
    }

    /// Every value the label `label` takes in the samples named `name`.
    pub(crate) fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.family_of(name)
            .unwrap_or_else(|| panic!("no family of {name} in {:?}", self.names()))
            .samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter_map(|sample| {
                sample
                    .labels
                    .iter()
                    .find(|(key, _)| key == label)
                    .map(|(_, value)| value.clone())
            })
            .collect()
    }

    /// The family names.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.families.keys().map(String::as_str).collect()
    }
}

/// A metric or label name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (no `:` in labels).
fn check_name(name: &str) -> Result<(), String> {
    let mut characters = name.chars();
    let first_ok = characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':');
    if first_ok && characters.all(|next| next.is_ascii_alphanumeric() || next == '_' || next == ':')
    {
        Ok(())
    } else {
        Err(format!("invalid name {name:?}"))
    }
}

/// `name{label="value",…} value`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inside)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    if value.contains(' ') {
        return Err("a timestamp or exemplar, which the node does not write".into());
    }
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        number => number
            .parse::<f64>()
            .ok()
            .filter(|_| number.starts_with(|c: char| c.is_ascii_digit() || c == '-'))
            .ok_or_else(|| format!("invalid value {number:?}"))?,
    };
    labels.sort();
    if labels.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Err("a label given twice".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The labels after `{`, and the text after the closing `}`.
fn parse_labels(mut text: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    loop {
        if let Some(after) = text.strip_prefix('}') {
            return Ok((labels, after));
        }
        if !labels.is_empty() {
            text = text
                .strip_prefix(',')
                .ok_or("labels not separated by `,`")?;
        }
        let (name, after) = text.split_once("=\"").ok_or("a label without `=\"`")?;
        check_name(name)?;
        if name.contains(':') {
            return Err(format!("invalid label name {name:?}"));
        }
        let mut value = String::new();
        let mut characters = after.char_indices();
        let end = loop {
            match characters.next() {
                Some((index, '"')) => break index,
                Some((_, '\\')) => match characters.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    _ => return Err("an invalid escape in a label value".into()),
                },
                Some((_, '\n')) | None => return Err("an unterminated label value".into()),
                Some((_, character)) => value.push(character),
            }
        };
        labels.push((name.to_owned(), value));
        text = &after[end + 1..];
    }
}

/// A histogram series' buckets: (upper bound, observations up to it).
type Buckets = Vec<(f64, f64)>;

/// Buckets of each series ascending and cumulative, the `+Inf` one equal to `_count`.
fn check_histogram(family: &Family) -> Result<(), String> {
    // Per series (labels without `le`): its (bound, count) buckets, its `_count`.
    let mut series: BTreeMap<Labels, (Buckets, Option<f64>)> = BTreeMap::new();
    for sample in &family.samples {
        let mut labels = sample.labels.clone();
        let le = labels
            .iter()
            .position(|(label, _)| label == "le")
            .map(|position| labels.remove(position).1);
        let entry = series.entry(labels).or_default();
        if let Some(le) = le {
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse::<f64>()
                    .map_err(|_| format!("invalid bucket bound {le:?}"))?
            };
            entry.0.push((bound, sample.value));
        } else if sample.name.ends_with("_count") {
            entry.1 = Some(sample.value);
        }
    }
    for (labels, (buckets, count)) in series {
        let ascending = buckets
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1);
        let last = buckets.last().copied();
        if !ascending || last.map(|(bound, _)| bound) != Some(f64::INFINITY) {
            return Err(format!(
                "buckets of {labels:?} are not cumulative up to +Inf"
            ));
        }
        if last.map(|(_, value)| value) != count {
            return Err(format!("the +Inf bucket of {labels:?} is not its count"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# HELP up Things.\n\
        # TYPE up counter\n\
        up_total 3\n\
        # HELP odd Odd values.\n\
        # TYPE odd gauge\n\
        odd{route=\"/a/{b}\",x=\"q\\\"\\\\\\n\"} NaN\n\
        odd{route=\"/c\"} -Inf\n\
        odd{route=\"/d\"} 1.5e-7\n\
        # HELP latency_seconds Latency.\n\
        # TYPE latency_seconds histogram\n\
        latency_seconds_sum{op=\"read\"} 0.25\n\
        latency_seconds_count{op=\"read\"} 1\n\
        latency_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n\
        latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 1\n\
        # EOF\n";

    #[test]
    fn a_well_formed_exposition_is_read() {
        let exposition = Exposition::parse(GOOD).expect("parses");
        assert_eq!(exposition.names(), ["latency_seconds", "odd", "up"]);
        assert_eq!(exposition.families["up"].kind, Kind::Counter);
        assert_eq!(exposition.value("up_total", &[]), Some(3.0));
        // Labels in any order, escapes undone.
        assert!(
            exposition
                .value("odd", &[("x", "q\"\\\n"), ("route", "/a/{b}")])
                .is_some_and(f64::is_nan)
        );
        assert_eq!(exposition.value("odd", &[("route", "/d")]), Some(1.5e-7));
        assert_eq!(exposition.value("odd", &[("route", "/e")]), None);
        assert_eq!(
            exposition.value("latency_seconds", &[("op", "read")]),
            Some(1.0)
        );
        assert_eq!(exposition.total("latency_seconds_bucket"), 2.0);
        assert_eq!(
            exposition.label_values("odd", "route"),
            ["/a/{b}", "/c", "/d"]
        );
    }

    #[test]
    fn malformed_expositions_are_refused() {
        let broken = [
            ("no EOF", GOOD.trim_end_matches("# EOF\n").to_owned()),
            ("a sample before any family", format!("x 1\n{GOOD}")),
            ("TYPE missing", GOOD.replace("# TYPE up counter\n", "")),
            (
                "a counter without _total",
                GOOD.replace("up_total 3", "up 3"),
            ),
            (
                "a sample of another family",
                GOOD.replace("up_total 3", "down_total 3"),
            ),
            (
                "unterminated label",
                GOOD.replace("route=\"/c\"", "route=\"/c"),
            ),
            ("bad escape", GOOD.replace("q\\\"", "q\\t")),
            ("bad value", GOOD.replace("up_total 3", "up_total three")),
            (
                "a stray comment",
                GOOD.replace("up_total 3\n", "up_total 3\n# hello\n"),
            ),
            (
                "+Inf bucket not the count",
                GOOD.replace(
                    "latency_seconds_count{op=\"read\"} 1",
                    "latency_seconds_count{op=\"read\"} 2",
                ),
            ),
            (
                "le outside a bucket",
                GOOD.replace("odd{route=\"/c\"}", "odd{route=\"/c\",le=\"1\"}"),
            ),
        ];
        for (why, text) in broken {
            assert!(Exposition::parse(&text).is_err(), "{why}:\n{text}");
        }
    }
}
