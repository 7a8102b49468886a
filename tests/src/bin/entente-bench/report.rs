//! The benchmark report: figures with their setup, target and same-run baseline, written as
//! Markdown for people and JSON for scripts.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// Which way a figure must go to meet its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    fn met(self, value: f64) -> bool {
        match self {
            Goal::AtLeast(t) => value >= t,
            Goal::AtMost(t) => value <= t,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Goal::AtLeast(t) => format!(">= {} {unit}", fmt_num(t)),
            Goal::AtMost(t) => format!("<= {} {unit}", fmt_num(t)),
        }
    }
}

/// One measured figure.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// The same measurement without Entente (raw libp2p gossipsub), in the same run.
    pub baseline: Option<f64>,
    /// Entente over baseline must stay at or below this ratio (latency: 1.5).
    pub max_ratio: Option<f64>,
    pub target: Option<Goal>,
    /// Why a target is missed and what would fix it: printed only when it is missed.
    pub if_missed: Option<String>,
    /// Anything a reader must know to read the figure right.
    pub note: Option<String>,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            baseline: None,
            max_ratio: None,
            target: None,
            if_missed: None,
            note: None,
        }
    }

    pub fn target(mut self, goal: Goal, if_missed: impl Into<String>) -> Self {
        self.target = Some(goal);
        self.if_missed = Some(if_missed.into());
        self
    }

    pub fn baseline(mut self, value: f64) -> Self {
        self.baseline = Some(value);
        self
    }

    /// A baseline that Entente must stay within `ratio` of (lower is better).
    pub fn within(mut self, baseline: f64, ratio: f64, if_missed: impl Into<String>) -> Self {
        self.baseline = Some(baseline);
        self.max_ratio = Some(ratio);
        if self.if_missed.is_none() {
            self.if_missed = Some(if_missed.into());
        }
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub fn ratio(&self) -> Option<f64> {
        self.baseline.filter(|b| *b > 0.0).map(|b| self.value / b)
    }

    /// `None` when the figure has nothing to meet.
    pub fn met(&self) -> Option<bool> {
        let target = self.target.map(|g| g.met(self.value));
        let ratio = self.max_ratio.zip(self.ratio()).map(|(max, r)| r <= max);
        match (target, ratio) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(true) && b.unwrap_or(true)),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "ratio": self.ratio(),
            "max_ratio": self.max_ratio,
            "target": self.target.map(|g| match g {
                Goal::AtLeast(t) => json!({"at_least": t}),
                Goal::AtMost(t) => json!({"at_most": t}),
            }),
            "met": self.met(),
            "missed_because": if self.met() == Some(false) { self.if_missed.clone() } else { None },
            "note": self.note,
        })
    }
}

/// A group of figures measured under one setup.
pub struct Section {
    pub title: String,
    pub setup: String,
    pub figures: Vec<Figure>,
}

pub struct Report {
    pub machine: Value,
    pub command: String,
    pub started: String,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        json!({
            "machine": self.machine,
            "command": self.command,
            "started": self.started,
            "sections": self.sections.iter().map(|s| json!({
                "title": s.title,
                "setup": s.setup,
                "figures": s.figures.iter().map(Figure::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Entente benchmark report\n");
        let _ = writeln!(
            md,
            "Written by `{}` on {}. Every baseline was measured in the same run, on the same \
             machine. Figures that miss a target say why below their table.\n",
            self.command, self.started
        );
        let _ = writeln!(md, "## Machine\n");
        if let Some(m) = self.machine.as_object() {
            for (k, v) in m {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                let _ = writeln!(md, "- {k}: {v}");
            }
        }
        let (met, missed) = self.tally();
        let _ = writeln!(md, "\n**Targets: {met} met, {missed} missed.**\n");
        for s in &self.sections {
            let _ = writeln!(md, "## {}\n\n{}\n", s.title, s.setup);
            let _ = writeln!(
                md,
                "| Figure | Value | Baseline | Ratio | Target | Met |\n|---|---:|---:|---:|---|:-:|"
            );
            for f in &s.figures {
                let baseline = f
                    .baseline
                    .map(|b| format!("{} {}", fmt_num(b), f.unit))
                    .unwrap_or_else(|| "–".into());
                let ratio = f
                    .ratio()
                    .map(|r| format!("{r:.2}×"))
                    .unwrap_or_else(|| "–".into());
                let mut target = f.target.map(|g| g.describe(&f.unit)).unwrap_or_default();
                if let Some(max) = f.max_ratio {
                    if !target.is_empty() {
                        target.push_str("; ");
                    }
                    let _ = write!(target, "<= {max}× baseline");
                }
                if target.is_empty() {
                    target = "–".into();
                }
                let met = match f.met() {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "–",
                };
                let _ = writeln!(
                    md,
                    "| {} | {} {} | {baseline} | {ratio} | {target} | {met} |",
                    f.name,
                    fmt_num(f.value),
                    f.unit
                );
            }
            let notes: Vec<&Figure> = s
                .figures
                .iter()
                .filter(|f| f.note.is_some() || f.met() == Some(false))
                .collect();
            if !notes.is_empty() {
                let _ = writeln!(md);
            }
            for f in notes {
                if f.met() == Some(false)
                    && let Some(why) = &f.if_missed
                {
                    let _ = writeln!(md, "- **{} misses its target.** {why}", f.name);
                }
                if let Some(n) = &f.note {
                    let _ = writeln!(md, "- {}: {n}", f.name);
                }
            }
            let _ = writeln!(md);
        }
        md
    }

    pub fn tally(&self) -> (usize, usize) {
        let all = self.sections.iter().flat_map(|s| &s.figures);
        let met = all.clone().filter(|f| f.met() == Some(true)).count();
        let missed = all.filter(|f| f.met() == Some(false)).count();
        (met, missed)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let md = dir.join("report.md");
        std::fs::write(&md, self.to_markdown())
            .with_context(|| format!("cannot write {}", md.display()))?;
        let js = dir.join("report.json");
        let text = serde_json::to_string_pretty(&self.to_json())?;
        std::fs::write(&js, text + "\n")
            .with_context(|| format!("cannot write {}", js.display()))?;
        Ok(())
    }
}

/// Numbers as a person reads them: three significant digits, thousands grouped.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let r = v.round() as i64;
        let digits = r.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(' ');
            }
            out.push(c);
        }
        if r < 0 { format!("-{out}") } else { out }
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_target_is_reported_with_its_reason() {
        let f = Figure::new("verify", 9000.0, "events/s")
            .target(Goal::AtLeast(15000.0), "because reasons");
        assert_eq!(f.met(), Some(false));
        let r = Report {
            machine: json!({"cpu": "x"}),
            command: "b".into(),
            started: "now".into(),
            sections: vec![Section {
                title: "T".into(),
                setup: "S".into(),
                figures: vec![f],
            }],
        };
        let md = r.to_markdown();
        assert!(
            md.contains("**verify misses its target.** because reasons"),
            "{md}"
        );
        assert_eq!(r.tally(), (0, 1));
    }

    #[test]
    fn ratios_compare_with_the_baseline() {
        let f = Figure::new("p99", 120.0, "ms").within(100.0, 1.5, "x");
        assert_eq!(f.ratio(), Some(1.2));
        assert_eq!(f.met(), Some(true));
        let f = Figure::new("p99", 160.0, "ms").within(100.0, 1.5, "x");
        assert_eq!(f.met(), Some(false));
        assert_eq!(fmt_num(1234567.0), "1 234 567");
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 99.0), 4.0);
    }
}
