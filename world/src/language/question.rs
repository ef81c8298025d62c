//! Questions about a clip, in the four CLEVRER types plus physical properties, with answers
//! computed from the simulator (re-simulating for predictions and counterfactuals).
//!
//! A question is a [`Template`] plus slot values. The same template string renders the text
//! and parses typed text back, so the two can never disagree.

use serde::{Deserialize, Serialize};

use crate::events::{Entity, Event, EventKind};
use crate::language::names::{colour_word, entity_phrase, shape_word, size_word, zone_colour_word};
use crate::language::vocab::{self, UnknownWords, NUMBERS};
use crate::scene::{Colour, Scene, Shape, Size, ZoneColour};

/// The CLEVRER question types, plus questions about hidden physical properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QuestionKind {
    Descriptive,
    Explanatory,
    Predictive,
    Counterfactual,
    Property,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 5] = [
        QuestionKind::Descriptive,
        QuestionKind::Explanatory,
        QuestionKind::Predictive,
        QuestionKind::Counterfactual,
        QuestionKind::Property,
    ];

    pub fn name(self) -> &'static str {
        match self {
            QuestionKind::Descriptive => "descriptive",
            QuestionKind::Explanatory => "explanatory",
            QuestionKind::Predictive => "predictive",
            QuestionKind::Counterfactual => "counterfactual",
            QuestionKind::Property => "property",
        }
    }
}

/// Every question the world can ask and answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Template {
    FastestColour,
    ShapeOfColour,
    CountMovingAtEnd,
    CountCollisions,
    DoesTouch,
    WhichEnters,
    WhatMadeMove,
    WhatMadeEnter,
    WillEnter,
    WillHit,
    WillFallOut,
    WithoutHit,
    WithoutEnter,
    WithoutMove,
    WhichHeavier,
    IsFloorSlippery,
    IsBouncy,
    IsHeavy,
    IsSlippery,
}

impl Template {
    pub const ALL: [Template; 19] = [
        Template::FastestColour,
        Template::ShapeOfColour,
        Template::CountMovingAtEnd,
        Template::CountCollisions,
        Template::DoesTouch,
        Template::WhichEnters,
        Template::WhatMadeMove,
        Template::WhatMadeEnter,
        Template::WillEnter,
        Template::WillHit,
        Template::WillFallOut,
        Template::WithoutHit,
        Template::WithoutEnter,
        Template::WithoutMove,
        Template::WhichHeavier,
        Template::IsFloorSlippery,
        Template::IsBouncy,
        Template::IsHeavy,
        Template::IsSlippery,
    ];

    /// The words of the question; `{colour}`, `{obj}`, `{thing}` and `{zone}` are slots.
    pub fn pattern(self) -> &'static str {
        match self {
            Template::FastestColour => "what colour is the object that moves fastest ?",
            Template::ShapeOfColour => "what shape is the {colour} object ?",
            Template::CountMovingAtEnd => "how many objects are moving at the end ?",
            Template::CountCollisions => "how many collisions are there ?",
            Template::DoesTouch => "does {thing} touch {thing} ?",
            Template::WhichEnters => "which object enters {zone} ?",
            Template::WhatMadeMove => "what made {obj} move ?",
            Template::WhatMadeEnter => "what made {obj} enter {zone} ?",
            Template::WillEnter => "will {obj} enter {zone} ?",
            Template::WillHit => "will {obj} hit {thing} ?",
            Template::WillFallOut => "will {obj} fall out of the arena ?",
            Template::WithoutHit => "if {obj} were removed , would {obj} hit {thing} ?",
            Template::WithoutEnter => "if {obj} were removed , would {obj} enter {zone} ?",
            Template::WithoutMove => "if {obj} were removed , would {obj} move ?",
            Template::WhichHeavier => "which is heavier , {obj} or {obj} ?",
            Template::IsFloorSlippery => "is the floor slippery ?",
            Template::IsBouncy => "is {obj} bouncy ?",
            Template::IsHeavy => "is {obj} heavy ?",
            Template::IsSlippery => "is {obj} slippery ?",
        }
    }

    pub fn kind(self) -> QuestionKind {
        use Template::*;
        match self {
            FastestColour | ShapeOfColour | CountMovingAtEnd | CountCollisions | DoesTouch
            | WhichEnters => QuestionKind::Descriptive,
            WhatMadeMove | WhatMadeEnter => QuestionKind::Explanatory,
            WillEnter | WillHit | WillFallOut => QuestionKind::Predictive,
            WithoutHit | WithoutEnter | WithoutMove => QuestionKind::Counterfactual,
            WhichHeavier | IsFloorSlippery | IsBouncy | IsHeavy | IsSlippery => {
                QuestionKind::Property
            }
        }
    }
}

/// An object named by its looks: "the red ball", "the big red ball".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjRef {
    pub size: Option<Size>,
    pub colour: Colour,
    pub shape: Shape,
}

impl ObjRef {
    /// The shortest reference that picks out object `index` of `scene`.
    pub fn of(scene: &Scene, index: usize) -> ObjRef {
        let o = &scene.objects[index];
        let same = scene
            .objects
            .iter()
            .filter(|p| p.colour == o.colour && p.shape == o.shape)
            .count();
        ObjRef {
            size: (same > 1).then_some(o.size),
            colour: o.colour,
            shape: o.shape,
        }
    }

    /// The object this names in `scene`.
    pub fn resolve(&self, scene: &Scene) -> Result<usize, AnswerError> {
        let hits: Vec<usize> = scene
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.colour == self.colour
                    && o.shape == self.shape
                    && self.size.is_none_or(|s| s == o.size)
            })
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(AnswerError::NoSuchObject(self.phrase())),
            many => Err(AnswerError::Ambiguous(self.phrase(), many.len())),
        }
    }

    fn phrase(&self) -> String {
        let mut w = vec!["the"];
        if let Some(s) = self.size {
            w.extend(size_word(s));
        }
        w.push(colour_word(self.colour));
        w.push(shape_word(self.shape));
        w.join(" ")
    }
}

/// Anything a collision can involve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Thing {
    Agent,
    Wall,
    Floor,
    Obj(ObjRef),
}

impl Thing {
    fn phrase(&self) -> String {
        match self {
            Thing::Agent => "the agent".into(),
            Thing::Wall => "the wall".into(),
            Thing::Floor => "the floor".into(),
            Thing::Obj(o) => o.phrase(),
        }
    }

    fn resolve(&self, scene: &Scene) -> Result<Entity, AnswerError> {
        Ok(match self {
            Thing::Agent => Entity::Agent,
            Thing::Wall => Entity::Wall,
            Thing::Floor => Entity::Floor,
            Thing::Obj(o) => Entity::Object(o.resolve(scene)? as u8),
        })
    }

    /// The thing an entity of `scene` is.
    pub fn of(scene: &Scene, e: Entity) -> Thing {
        match e {
            Entity::Agent => Thing::Agent,
            Entity::Wall => Thing::Wall,
            Entity::Floor => Thing::Floor,
            Entity::Object(i) => Thing::Obj(ObjRef::of(scene, i as usize)),
        }
    }
}

/// A value filling a template's slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Slot {
    Colour(Colour),
    Obj(ObjRef),
    Thing(Thing),
    Zone(ZoneColour),
}

/// A question: a template and its slot values, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Question {
    pub template: Template,
    pub slots: Vec<Slot>,
}

impl Question {
    pub fn new(template: Template, slots: Vec<Slot>) -> Question {
        Question { template, slots }
    }

    pub fn kind(&self) -> QuestionKind {
        self.template.kind()
    }

    /// The question in words, e.g. "what made the blue box move?".
    pub fn text(&self) -> String {
        let mut slots = self.slots.iter();
        let words: Vec<String> = self
            .template
            .pattern()
            .split(' ')
            .map(|w| {
                if !w.starts_with('{') {
                    return w.to_string();
                }
                match slots.next() {
                    Some(Slot::Colour(c)) => colour_word(*c).to_string(),
                    Some(Slot::Obj(o)) => o.phrase(),
                    Some(Slot::Thing(t)) => t.phrase(),
                    Some(Slot::Zone(z)) => format!("the {} zone", zone_colour_word(*z)),
                    None => w.to_string(),
                }
            })
            .collect();
        vocab::detokenize(&vocab::tokenize(&words.join(" ")).unwrap_or_default())
    }

    /// Parses typed text into a question. Unknown words, empty or over-long text, and text
    /// that matches no template each get their own message.
    pub fn parse(text: &str) -> Result<Question, ParseError> {
        const MAX_WORDS: usize = 40;
        vocab::tokenize(text)?;
        let mut words = vocab::split_words(text);
        if words.is_empty() {
            return Err(ParseError::Empty);
        }
        if words.len() > MAX_WORDS {
            return Err(ParseError::TooLong(words.len(), MAX_WORDS));
        }
        if words.last().map(String::as_str) != Some("?") {
            words.push("?".into());
        }
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        for t in Template::ALL {
            if let Some(slots) = match_pattern(t.pattern(), &words) {
                return Ok(Question { template: t, slots });
            }
        }
        Err(ParseError::NoTemplate(
            closest_template(&words)
                .pattern()
                .replace(" ?", "?")
                .replace(" ,", ","),
        ))
    }
}

/// Why typed text is not a question the world knows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    UnknownWords(#[from] UnknownWords),
    #[error("the question is empty: try \"what made the red ball move?\"")]
    Empty,
    #[error("the question has {0} words; questions have at most {1}")]
    TooLong(usize, usize),
    #[error("this is not a question the world can answer; the closest form it knows is \"{0}\" (slots: {{obj}} is e.g. \"the red ball\", {{thing}} also \"the agent\" or \"the wall\", {{zone}} \"the green zone\")")]
    NoTemplate(String),
}

fn colour_of(w: &str) -> Option<Colour> {
    Colour::ALL.into_iter().find(|c| colour_word(*c) == w)
}

fn shape_of(w: &str) -> Option<Shape> {
    [Shape::Ball, Shape::Box]
        .into_iter()
        .find(|s| shape_word(*s) == w)
}

fn size_of(w: &str) -> Option<Size> {
    Size::ALL.into_iter().find(|s| size_word(*s) == Some(w))
}

/// "[size] colour shape" at the start of `words`: the reference and words used.
fn match_obj_body(words: &[&str]) -> Option<(ObjRef, usize)> {
    let (size, at) = match words.first().and_then(|w| size_of(w)) {
        Some(s) => (Some(s), 1),
        None => (None, 0),
    };
    let colour = colour_of(words.get(at)?)?;
    let shape = shape_of(words.get(at + 1)?)?;
    Some((
        ObjRef {
            size,
            colour,
            shape,
        },
        at + 2,
    ))
}

fn match_slot(kind: &str, words: &[&str]) -> Option<(Slot, usize)> {
    match kind {
        "{colour}" => Some((Slot::Colour(colour_of(words.first()?)?), 1)),
        "{obj}" => {
            if *words.first()? != "the" {
                return None;
            }
            let (o, n) = match_obj_body(&words[1..])?;
            Some((Slot::Obj(o), n + 1))
        }
        "{thing}" => {
            if *words.first()? != "the" {
                return None;
            }
            let fixed = match *words.get(1)? {
                "agent" => Some(Thing::Agent),
                "wall" => Some(Thing::Wall),
                "floor" => Some(Thing::Floor),
                _ => None,
            };
            match fixed {
                Some(t) => Some((Slot::Thing(t), 2)),
                None => {
                    let (o, n) = match_obj_body(&words[1..])?;
                    Some((Slot::Thing(Thing::Obj(o)), n + 1))
                }
            }
        }
        "{zone}" => {
            let z = ZoneColour::ALL
                .into_iter()
                .find(|z| Some(&zone_colour_word(*z)) == words.get(1))?;
            (words.first() == Some(&"the") && words.get(2) == Some(&"zone"))
                .then_some((Slot::Zone(z), 3))
        }
        _ => None,
    }
}

fn match_pattern(pattern: &str, words: &[&str]) -> Option<Vec<Slot>> {
    let mut slots = Vec::new();
    let mut at = 0;
    for p in pattern.split(' ') {
        if p.starts_with('{') {
            let (slot, used) = match_slot(p, &words[at..])?;
            slots.push(slot);
            at += used;
        } else if words.get(at) == Some(&p) {
            at += 1;
        } else {
            return None;
        }
    }
    (at == words.len()).then_some(slots)
}

/// The template sharing the most leading fixed words with the text, for the error message.
fn closest_template(words: &[&str]) -> Template {
    Template::ALL
        .into_iter()
        .max_by_key(|t| {
            let fixed: Vec<&str> = t
                .pattern()
                .split(' ')
                .filter(|w| !w.starts_with('{'))
                .collect();
            let shared = fixed.iter().filter(|w| words.contains(w)).count() as i64;
            shared * 100 - fixed.len() as i64
        })
        .unwrap_or(Template::WhatMadeMove)
}

/// An answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Answer {
    Yes,
    No,
    Colour(Colour),
    Shape(Shape),
    Count(u8),
    Thing(Thing),
    Nothing,
    Neither,
}

impl Answer {
    pub(crate) fn yes_no(b: bool) -> Answer {
        if b {
            Answer::Yes
        } else {
            Answer::No
        }
    }

    /// The answer in words ("yes", "red", "three", "the agent").
    pub fn text(&self) -> String {
        match self {
            Answer::Yes => "yes".into(),
            Answer::No => "no".into(),
            Answer::Colour(c) => colour_word(*c).into(),
            Answer::Shape(s) => shape_word(*s).into(),
            Answer::Count(n) => NUMBERS.get(*n as usize).copied().unwrap_or("ten").into(),
            Answer::Thing(t) => t.phrase(),
            Answer::Nothing => "nothing".into(),
            Answer::Neither => "neither".into(),
        }
    }
}

/// Why a question has no answer for this clip.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("there is no {0} in this scene")]
    NoSuchObject(String),
    #[error("\"{0}\" could be any of {1} objects: add \"small\" or \"big\"")]
    Ambiguous(String, usize),
    #[error("this scene has no {0} zone")]
    NoSuchZone(&'static str),
    #[error("the question assumes something that did not happen: {0}")]
    Premise(String),
    #[error("the question names the same object twice")]
    SameObject,
    #[error("the question does not fit its template (wrong slots)")]
    BadSlots,
}

/// A clip of an episode: a scene, the actions taken, and the frames shown.
pub struct Clip<'a> {
    pub scene: &'a Scene,
    /// Actions of the whole episode (`frames - 1` or more).
    pub actions: &'a [crate::action::Action],
    /// Frames shown to whoever answers (frames `0..frames`). Predictive questions look past
    /// the end; the others only inside.
    pub frames: u32,
    /// The factual rollout of the episode (at least `frames` states).
    pub factual: &'a crate::sim::Rollout,
}

/// Frames a prediction looks ahead from the end of the clip, with the agent holding still.
pub const PREDICT_FRAMES: u32 = 20;
/// A collision at most this many frames before an object starts moving can be its cause.
const CAUSE_WINDOW: u32 = 3;

impl Clip<'_> {
    fn events(&self) -> impl Iterator<Item = &Event> {
        self.factual.events.iter().filter(|e| e.frame < self.frames)
    }

    /// What happens after the clip if the agent stops acting: events from frame `frames` on.
    pub fn future(&self) -> Vec<Event> {
        let shown = (self.frames.saturating_sub(1) as usize).min(self.actions.len());
        let mut actions = self.actions[..shown].to_vec();
        actions.extend(std::iter::repeat_n(
            crate::action::Action::STAY,
            PREDICT_FRAMES as usize,
        ));
        let r = crate::sim::rollout(self.scene, &[], &actions);
        r.events
            .into_iter()
            .filter(|e| e.frame >= self.frames)
            .collect()
    }

    /// The clip re-simulated with one object removed, same actions: its events.
    pub fn without(&self, removed: usize) -> Vec<Event> {
        let shown = (self.frames.saturating_sub(1) as usize).min(self.actions.len());
        crate::sim::rollout(self.scene, &[removed], &self.actions[..shown]).events
    }
}

fn zone_index(scene: &Scene, z: ZoneColour) -> Result<u8, AnswerError> {
    scene
        .zone(z)
        .map(|(i, _)| i as u8)
        .ok_or(AnswerError::NoSuchZone(zone_colour_word(z)))
}

/// Whether `a` and `b` collide in `events`.
pub(crate) fn hits(events: &[Event], a: Entity, b: Entity) -> bool {
    events.iter().any(|e| e.kind.is_collision_between(a, b))
}

/// Whether `object` enters `zone` in `events`.
pub(crate) fn enters(events: &[Event], object: u8, zone: u8) -> bool {
    events
        .iter()
        .any(|e| e.kind == EventKind::EnterZone { object, zone })
}

/// Whether `object` starts moving in `events`.
pub(crate) fn moves(events: &[Event], object: u8) -> bool {
    events
        .iter()
        .any(|e| e.kind == EventKind::StartMoving { object })
}

/// Whether `object` leaves the arena in `events`.
pub(crate) fn falls_out(events: &[Event], object: u8) -> bool {
    events
        .iter()
        .any(|e| e.kind == EventKind::LeaveArena { object })
}

/// The movable thing that last hit `object` at or before `frame` (within `window` frames).
fn last_hitter(events: &[&Event], object: u8, frame: u32, window: u32) -> Option<Entity> {
    events
        .iter()
        .rev()
        .filter(|e| e.frame <= frame && e.frame.saturating_add(window) >= frame)
        .filter_map(|e| e.kind.collision_partner(Entity::Object(object)))
        .find(|p| p.is_movable())
}

/// Answers `q` about `clip` from the simulator's ground truth.
pub fn answer(q: &Question, clip: &Clip) -> Result<Answer, AnswerError> {
    use Template::*;
    let scene = clip.scene;
    let obj = |i: usize| -> Result<u8, AnswerError> {
        match q.slots.get(i) {
            Some(Slot::Obj(o)) => Ok(o.resolve(scene)? as u8),
            _ => Err(AnswerError::BadSlots),
        }
    };
    let thing = |i: usize| -> Result<Entity, AnswerError> {
        match q.slots.get(i) {
            Some(Slot::Thing(t)) => t.resolve(scene),
            _ => Err(AnswerError::BadSlots),
        }
    };
    let zone = |i: usize| -> Result<u8, AnswerError> {
        match q.slots.get(i) {
            Some(Slot::Zone(z)) => zone_index(scene, *z),
            _ => Err(AnswerError::BadSlots),
        }
    };
    let events: Vec<&Event> = clip.events().collect();
    let owned: Vec<Event> = events.iter().map(|e| **e).collect();
    let last_state = clip
        .factual
        .states
        .get(clip.frames.saturating_sub(1) as usize);
    Ok(match q.template {
        FastestColour => {
            let mut best: Option<(f32, usize)> = None;
            for s in clip.factual.states.iter().take(clip.frames as usize) {
                for (i, b) in s.objects.iter().enumerate() {
                    if b.present && best.is_none_or(|(v, _)| b.speed() > v) {
                        best = Some((b.speed(), i));
                    }
                }
            }
            match best {
                Some((v, i)) if v > 0.3 => Answer::Colour(scene.objects[i].colour),
                _ => return Err(AnswerError::Premise("no object moves in this clip".into())),
            }
        }
        ShapeOfColour => {
            let Some(Slot::Colour(c)) = q.slots.first() else {
                return Err(AnswerError::BadSlots);
            };
            let found: Vec<_> = scene.objects.iter().filter(|o| o.colour == *c).collect();
            match found.as_slice() {
                [o] => Answer::Shape(o.shape),
                [] => {
                    return Err(AnswerError::NoSuchObject(format!(
                        "{} object",
                        colour_word(*c)
                    )))
                }
                many => {
                    return Err(AnswerError::Ambiguous(
                        format!("the {} object", colour_word(*c)),
                        many.len(),
                    ))
                }
            }
        }
        CountMovingAtEnd => {
            let n = last_state.map_or(0, |s| {
                s.objects
                    .iter()
                    .filter(|b| b.present && b.speed() > 0.3)
                    .count()
            });
            Answer::Count(n.min(10) as u8)
        }
        CountCollisions => {
            let n = events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Collision { a, b } if a.is_movable() && b.is_movable()))
                .count();
            Answer::Count(n.min(10) as u8)
        }
        DoesTouch => {
            let (a, b) = (thing(0)?, thing(1)?);
            if a == b {
                return Err(AnswerError::SameObject);
            }
            Answer::yes_no(hits(&owned, a, b))
        }
        WhichEnters => {
            let z = zone(0)?;
            events
                .iter()
                .find_map(|e| match e.kind {
                    EventKind::EnterZone { object, zone } if zone == z => {
                        Some(Answer::Thing(Thing::of(scene, Entity::Object(object))))
                    }
                    _ => None,
                })
                .unwrap_or(Answer::Nothing)
        }
        WhatMadeMove => {
            let o = obj(0)?;
            let start = events
                .iter()
                .find(|e| e.kind == EventKind::StartMoving { object: o })
                .ok_or_else(|| {
                    AnswerError::Premise(format!(
                        "{} never moves",
                        entity_phrase(scene, Entity::Object(o))
                    ))
                })?;
            let cause = last_hitter(&events, o, start.frame, CAUSE_WINDOW).ok_or_else(|| {
                AnswerError::Premise(format!(
                    "nothing visibly hits {} before it moves",
                    entity_phrase(scene, Entity::Object(o))
                ))
            })?;
            Answer::Thing(Thing::of(scene, cause))
        }
        WhatMadeEnter => {
            let (o, z) = (obj(0)?, zone(1)?);
            let entry = events
                .iter()
                .find(|e| e.kind == EventKind::EnterZone { object: o, zone: z })
                .ok_or_else(|| {
                    AnswerError::Premise(format!(
                        "{} never enters {}",
                        entity_phrase(scene, Entity::Object(o)),
                        crate::language::names::zone_phrase(scene, z as usize)
                    ))
                })?;
            let cause = last_hitter(&events, o, entry.frame, u32::MAX).ok_or_else(|| {
                AnswerError::Premise(format!(
                    "nothing hits {} before it enters",
                    entity_phrase(scene, Entity::Object(o))
                ))
            })?;
            Answer::Thing(Thing::of(scene, cause))
        }
        WillEnter => {
            let (o, z) = (obj(0)?, zone(1)?);
            Answer::yes_no(enters(&clip.future(), o, z))
        }
        WillHit => {
            let (o, t) = (obj(0)?, thing(1)?);
            if Entity::Object(o) == t {
                return Err(AnswerError::SameObject);
            }
            Answer::yes_no(hits(&clip.future(), Entity::Object(o), t))
        }
        WillFallOut => {
            let o = obj(0)?;
            Answer::yes_no(falls_out(&clip.future(), o))
        }
        WithoutHit | WithoutEnter | WithoutMove => {
            let (removed, o) = (obj(0)?, obj(1)?);
            if removed == o {
                return Err(AnswerError::SameObject);
            }
            let cf = || clip.without(removed as usize);
            match q.template {
                WithoutHit => {
                    let t = thing(2)?;
                    if t == Entity::Object(removed) || t == Entity::Object(o) {
                        return Err(AnswerError::SameObject);
                    }
                    Answer::yes_no(hits(&cf(), Entity::Object(o), t))
                }
                WithoutEnter => {
                    let z = zone(2)?;
                    Answer::yes_no(enters(&cf(), o, z))
                }
                _ => Answer::yes_no(moves(&cf(), o)),
            }
        }
        WhichHeavier => {
            let (a, b) = (obj(0)?, obj(1)?);
            if a == b {
                return Err(AnswerError::SameObject);
            }
            let (ma, mb) = (
                scene.objects[a as usize].mass.kg(),
                scene.objects[b as usize].mass.kg(),
            );
            if ma > mb {
                Answer::Thing(Thing::of(scene, Entity::Object(a)))
            } else if mb > ma {
                Answer::Thing(Thing::of(scene, Entity::Object(b)))
            } else {
                Answer::Neither
            }
        }
        IsFloorSlippery => Answer::yes_no(scene.floor == crate::scene::Friction::Slippery),
        IsBouncy => {
            Answer::yes_no(scene.objects[obj(0)? as usize].bounce == crate::scene::Bounce::Bouncy)
        }
        IsHeavy => {
            Answer::yes_no(scene.objects[obj(0)? as usize].mass == crate::scene::Mass::Heavy)
        }
        IsSlippery => Answer::yes_no(
            scene.objects[obj(0)? as usize].friction == crate::scene::Friction::Slippery,
        ),
    })
}
