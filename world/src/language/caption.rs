//! Captions: what happened in a clip, in words, from the event log.

use crate::events::{Entity, Event, EventKind};
use crate::language::names::{entity_phrase, zone_phrase};
use crate::scene::Scene;

/// One event as a clause ("the agent hits the red ball"), or `None` for events too minor to
/// mention (an object touching the floor it rests on, starting to move).
pub fn narrate(scene: &Scene, event: &Event) -> Option<String> {
    match event.kind {
        EventKind::Collision { a, b } => {
            // Say it from the mover's side: "the agent hits the wall", "the red ball hits ...".
            let (subject, object) = match (a, b) {
                (Entity::Agent, other) | (other, Entity::Agent) if other != Entity::Agent => {
                    (Entity::Agent, other)
                }
                _ => (a, b),
            };
            if object == Entity::Floor {
                return Some(format!(
                    "{} lands on the floor",
                    entity_phrase(scene, subject)
                ));
            }
            Some(format!(
                "{} hits {}",
                entity_phrase(scene, subject),
                entity_phrase(scene, object)
            ))
        }
        EventKind::EnterZone { object, zone } => Some(format!(
            "{} enters {}",
            entity_phrase(scene, Entity::Object(object)),
            zone_phrase(scene, zone as usize)
        )),
        EventKind::ExitZone { object, zone } => Some(format!(
            "{} leaves {}",
            entity_phrase(scene, Entity::Object(object)),
            zone_phrase(scene, zone as usize)
        )),
        EventKind::LeaveArena { object } => Some(format!(
            "{} falls out of the arena",
            entity_phrase(scene, Entity::Object(object))
        )),
        EventKind::ComeToRest { object } => Some(format!(
            "{} stops",
            entity_phrase(scene, Entity::Object(object))
        )),
        EventKind::StartMoving { .. } => None,
    }
}

/// Most clauses a caption strings together.
pub const CAPTION_CLAUSES: usize = 4;

/// Whether an event is worth a caption: interactions between movable things, zones, leaving
/// the arena. Wall and floor contacts and stops are left to the event log.
fn is_salient(event: &Event) -> bool {
    match event.kind {
        EventKind::Collision { a, b } => a.is_movable() && b.is_movable(),
        EventKind::EnterZone { .. } | EventKind::LeaveArena { .. } => true,
        _ => false,
    }
}

/// A caption of a whole clip: its first few salient events joined by "then", e.g.
/// "the agent hits the red ball, then the red ball enters the green zone."
pub fn caption(scene: &Scene, events: &[Event]) -> String {
    let clauses: Vec<String> = events
        .iter()
        .filter(|e| is_salient(e))
        .filter_map(|e| narrate(scene, e))
        .fold(Vec::new(), |mut acc, c| {
            // The same clause twice in a row (a ball bouncing on the agent) is said once.
            if acc.last() != Some(&c) {
                acc.push(c);
            }
            acc
        })
        .into_iter()
        .take(CAPTION_CLAUSES)
        .collect();
    if clauses.is_empty() {
        return "nothing touches anything.".into();
    }
    format!("{}.", clauses.join(", then "))
}
