//! Outcomes of silence procedures and adoptions, derived from the procedural facts and the
//! causal order of events. Entente does not decide politics: when a break of silence or an
//! objection is concurrent with the close or the adoption, the outcome is `contested`, for
//! people to settle, and every node and verifier says so identically (SPEC.md, "Decisions").

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::ids::EventId;
use crate::procedure::{Adoption, Objection, Silence, SilenceBreak};
use crate::state::{Entry, NegotiationState};

/// How a break of silence counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Made before the deadline, and the chair's close (if any) saw it.
    Counted,
    /// Made after seeing the close, or claiming a time after the deadline.
    Late,
    /// Neither saw the other: concurrent with the close and claiming a time before the deadline.
    Contested,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SilenceOutcome {
    /// Not closed, not broken (yet).
    Open,
    /// At least one counted break.
    Broken,
    /// Closed at or after the deadline with no counted or contested break.
    Passed,
    /// A break concurrent with the close claims a time before the deadline.
    Contested,
    /// Closed before the deadline without a break: the text was withdrawn from silence.
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdoptionStatus {
    Adopted,
    Contested,
    /// Adopted over a counted objection or on a silence procedure that did not pass.
    Void,
}

#[derive(Debug, Clone, Serialize)]
pub struct SilenceView {
    #[serde(flatten)]
    pub silence: Silence,
    pub outcome: SilenceOutcome,
    /// Each break with how it counts, in fold order.
    pub standings: Vec<(EventId, Standing)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdoptionView {
    #[serde(flatten)]
    pub adoption: Adoption,
    pub status: AdoptionStatus,
    /// Why the status is not `adopted`, in words.
    pub reasons: Vec<String>,
    /// Objections to the adopted revision with how they count.
    pub objections: Vec<(Objection, Standing)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Proceedings {
    pub silences: Vec<SilenceView>,
    pub adoptions: Vec<AdoptionView>,
}

/// The causal order of the folded events.
struct Causality<'a> {
    by_id: HashMap<EventId, &'a Entry>,
    children: HashMap<EventId, Vec<EventId>>,
}

/// What is before and after one event (a close or an adoption): computed once per event, so that
/// classifying any number of acts against it costs one lookup each.
struct Horizon {
    id: EventId,
    before: HashSet<EventId>,
    after: HashSet<EventId>,
}

impl<'a> Causality<'a> {
    fn new(state: &'a NegotiationState) -> Self {
        let mut children: HashMap<EventId, Vec<EventId>> = HashMap::new();
        for e in &state.entries {
            for p in &e.parents {
                children.entry(*p).or_default().push(e.id);
            }
        }
        Self {
            by_id: state.entries.iter().map(|e| (e.id, e)).collect(),
            children,
        }
    }

    /// Every event reachable from `from` by `next`, `from` excluded.
    fn reach(&self, from: EventId, next: impl Fn(&EventId) -> Vec<EventId>) -> HashSet<EventId> {
        let mut seen = HashSet::new();
        let mut stack = next(&from);
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(next(&id));
            }
        }
        seen
    }

    fn horizon(&self, id: EventId) -> Horizon {
        let parents = |x: &EventId| {
            self.by_id
                .get(x)
                .map_or_else(Vec::new, |e| e.parents.clone())
        };
        let children = |x: &EventId| self.children.get(x).cloned().unwrap_or_default();
        Horizon {
            id,
            before: self.reach(id, parents),
            after: self.reach(id, children),
        }
    }

    fn time(&self, id: EventId) -> u64 {
        self.by_id.get(&id).map_or(0, |e| e.time)
    }
}

impl Horizon {
    /// How an act that had to come before this closing event (and before `deadline`) counts.
    fn standing(&self, act: EventId, act_time: u64, deadline: Option<u64>) -> Standing {
        if self.after.contains(&act) || deadline.is_some_and(|d| act_time > d) {
            Standing::Late
        } else if self.before.contains(&act) || act == self.id {
            Standing::Counted
        } else {
            Standing::Contested
        }
    }
}

fn silence_view(c: &Causality<'_>, s: &Silence) -> SilenceView {
    let close = s.close.map(|id| c.horizon(id));
    let standings: Vec<(EventId, Standing)> = s
        .breaks
        .iter()
        .map(|b: &SilenceBreak| {
            let st = match &close {
                Some(h) => h.standing(b.id, b.time, Some(s.deadline)),
                None if b.time > s.deadline => Standing::Late,
                None => Standing::Counted,
            };
            (b.id, st)
        })
        .collect();
    let any = |x: Standing| standings.iter().any(|(_, st)| *st == x);
    let outcome = match s.close {
        _ if any(Standing::Counted) => SilenceOutcome::Broken,
        None => SilenceOutcome::Open,
        Some(_) if any(Standing::Contested) => SilenceOutcome::Contested,
        Some(close) if c.time(close) < s.deadline => SilenceOutcome::Withdrawn,
        Some(_) => SilenceOutcome::Passed,
    };
    SilenceView {
        silence: s.clone(),
        outcome,
        standings,
    }
}

impl Proceedings {
    /// Derives every outcome from a folded state.
    pub fn of(state: &NegotiationState) -> Self {
        let c = Causality::new(state);
        let silences: Vec<SilenceView> = state
            .procedure
            .silences
            .values()
            .map(|s| silence_view(&c, s))
            .collect();
        let mut adoptions = Vec::new();
        for a in state.procedure.adoptions.values() {
            let mut status = AdoptionStatus::Adopted;
            let mut reasons = Vec::new();
            let mut worsen = |to: AdoptionStatus, why: String| {
                if status != AdoptionStatus::Void {
                    status = to;
                }
                reasons.push(why);
            };
            if let Some(sid) = a.silence
                && let Some(view) = silences.iter().find(|v| v.silence.id == sid)
            {
                match view.outcome {
                    SilenceOutcome::Passed => {}
                    SilenceOutcome::Contested => worsen(
                        AdoptionStatus::Contested,
                        "the silence procedure it rests on is contested".into(),
                    ),
                    other => worsen(
                        AdoptionStatus::Void,
                        format!("the silence procedure it rests on did not pass ({other:?})"),
                    ),
                }
            }
            let list = state.procedure.objections.get(&a.revision);
            let horizon = list.map(|_| c.horizon(a.id));
            let objections: Vec<(Objection, Standing)> = list
                .into_iter()
                .flatten()
                .zip(std::iter::repeat(&horizon))
                .filter_map(|(o, h)| h.as_ref().map(|h| (o.clone(), h.standing(o.id, 0, None))))
                .collect();
            for (o, st) in &objections {
                match st {
                    Standing::Counted => worsen(
                        AdoptionStatus::Void,
                        format!("adopted over an objection by {}", o.delegation.short()),
                    ),
                    Standing::Contested => worsen(
                        AdoptionStatus::Contested,
                        format!(
                            "an objection by {} was concurrent with the adoption",
                            o.delegation.short()
                        ),
                    ),
                    Standing::Late => {}
                }
            }
            adoptions.push(AdoptionView {
                adoption: a.clone(),
                status,
                reasons,
                objections,
            });
        }
        Self {
            silences,
            adoptions,
        }
    }
}
