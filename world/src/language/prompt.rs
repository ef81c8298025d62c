//! Scene prompts: "seen from above, a red ball to the left of a big blue box, a green zone on
//! the right". Parsed to a [`ScenePrompt`], printed back from one, and read off a [`Scene`],
//! so the model can learn text -> first frame and the page can build scenes from sentences.
//!
//! Grammar (words, commas and "and" separate clauses; a final "." is allowed):
//! ```text
//! prompt  := [view ","] clause ((","|"and") clause)*
//! view    := "seen from above" | "seen from the side"
//! clause  := new [relation (new | earlier)] | zone
//! new     := ("a"|"an"|two..five) [small|big] colour shape(s)
//! earlier := "the" [small|big] colour shape         (an object named before)
//! relation:= "to the left of" | "to the right of" | "above" | "below"
//! zone    := "a" ("green"|"pink") "zone" ("on the left"|"on the right"|"at the top"|"at the bottom")
//! ```

use serde::{Deserialize, Serialize};

use crate::language::names::{colour_word, shape_plural, shape_word, size_word, zone_colour_word};
use crate::language::vocab::{self, UnknownWords, NUMBERS};
use crate::scene::{
    rng_from_seed, Anchor, Colour, ObjectLooks, Relation, Scene, SceneError, Shape, Size, View,
    Zone, ZoneColour, MAX_OBJECTS,
};

/// What a prompt says: objects by looks, relations between them, zones, and the view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenePrompt {
    pub view: View,
    pub objects: Vec<ObjectLooks>,
    /// (subject, relation, reference), indices into `objects`.
    pub relations: Vec<(usize, Relation, usize)>,
    pub zones: Vec<Zone>,
}

/// Why a prompt cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PromptError {
    #[error(transparent)]
    UnknownWords(#[from] UnknownWords),
    #[error("the prompt is empty: try \"a red ball to the left of a big blue box\"")]
    Empty,
    #[error("the prompt has {0} words; prompts have at most {1}")]
    TooLong(usize, usize),
    #[error("the prompt asks for {0} objects; a scene holds 1 to {MAX_OBJECTS}")]
    ObjectCount(usize),
    #[error("could not read the prompt at \"{found}\" (word {position}): expected {expected}")]
    Unexpected {
        found: String,
        position: usize,
        expected: &'static str,
    },
    #[error("\"{0}\" refers to an object not mentioned before (use \"a\" to add a new one)")]
    UnknownReference(String),
    #[error("\"{0}\" could mean {1} objects named before: add \"small\" or \"big\"")]
    AmbiguousReference(String, usize),
    #[error("a scene seen from the side has zones only on the left and on the right")]
    SideZone,
    #[error("\"{0}\": objects seen from the side rest on the floor, so nothing is above or below")]
    SideRelation(String),
    #[error("two zones share the colour {0}")]
    DuplicateZone(&'static str),
    #[error("two zones are both {0}")]
    ZonePlace(&'static str),
    #[error(transparent)]
    Layout(#[from] SceneError),
}

const MAX_WORDS: usize = 80;

fn anchor_words(a: Anchor) -> &'static str {
    match a {
        Anchor::Left => "on the left",
        Anchor::Right => "on the right",
        Anchor::Top => "at the top",
        Anchor::Bottom => "at the bottom",
    }
}

fn relation_words(r: Relation) -> &'static str {
    match r {
        Relation::LeftOf => "to the left of",
        Relation::RightOf => "to the right of",
        Relation::Above => "above",
        Relation::Below => "below",
    }
}

fn looks_words(l: ObjectLooks, plural: bool) -> String {
    let mut w: Vec<&str> = size_word(l.size).into_iter().collect();
    w.push(colour_word(l.colour));
    w.push(if plural {
        shape_plural(l.shape)
    } else {
        shape_word(l.shape)
    });
    w.join(" ")
}

fn article(l: ObjectLooks) -> &'static str {
    let first = size_word(l.size).unwrap_or(colour_word(l.colour));
    if first.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

struct Reader<'a> {
    words: &'a [String],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.words.get(self.at).map(String::as_str)
    }

    fn eat(&mut self, w: &str) -> bool {
        if self.peek() == Some(w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_seq(&mut self, seq: &str) -> bool {
        let parts: Vec<&str> = seq.split(' ').collect();
        let fits = parts
            .iter()
            .enumerate()
            .all(|(i, p)| self.words.get(self.at + i).map(String::as_str) == Some(*p));
        if fits {
            self.at += parts.len();
        }
        fits
    }

    fn fail<T>(&self, expected: &'static str) -> Result<T, PromptError> {
        Err(PromptError::Unexpected {
            found: self.peek().unwrap_or("the end").to_string(),
            position: self.at + 1,
            expected,
        })
    }

    /// "[size] colour shape(s)": looks and whether the noun was plural.
    fn looks(&mut self) -> Result<(ObjectLooks, bool), PromptError> {
        let size = match self.peek() {
            Some("small") => Size::Small,
            Some("big") => Size::Large,
            _ => Size::Medium,
        };
        if size != Size::Medium {
            self.at += 1;
        }
        let Some(colour) = self
            .peek()
            .and_then(|w| Colour::ALL.into_iter().find(|c| colour_word(*c) == w))
        else {
            return self.fail("a colour (red, blue, yellow, purple, cyan, orange)");
        };
        self.at += 1;
        let (shape, plural) = match self.peek() {
            Some("ball") => (Shape::Ball, false),
            Some("box") => (Shape::Box, false),
            Some("balls") => (Shape::Ball, true),
            Some("boxes") => (Shape::Box, true),
            _ => return self.fail("a shape (ball or box)"),
        };
        self.at += 1;
        Ok((
            ObjectLooks {
                shape,
                colour,
                size,
            },
            plural,
        ))
    }

    /// Count word for a new object phrase, if one is here.
    fn count(&mut self) -> Option<usize> {
        let n = match self.peek()? {
            "a" | "an" => 1,
            w => (2..=5).find(|&n| NUMBERS[n] == w)?,
        };
        self.at += 1;
        Some(n)
    }

    fn relation(&mut self) -> Option<Relation> {
        [
            Relation::LeftOf,
            Relation::RightOf,
            Relation::Above,
            Relation::Below,
        ]
        .into_iter()
        .find(|r| self.eat_seq(relation_words(*r)))
    }
}

impl ScenePrompt {
    /// Parses a prompt. Every problem gets a message that names the word at fault.
    pub fn parse(text: &str) -> Result<ScenePrompt, PromptError> {
        vocab::tokenize(text)?;
        let words = vocab::split_words(text);
        if words.is_empty() {
            return Err(PromptError::Empty);
        }
        if words.len() > MAX_WORDS {
            return Err(PromptError::TooLong(words.len(), MAX_WORDS));
        }
        let mut r = Reader {
            words: &words,
            at: 0,
        };
        let mut p = ScenePrompt {
            view: View::TopDown,
            objects: Vec::new(),
            relations: Vec::new(),
            zones: Vec::new(),
        };
        if r.eat_seq("seen from above") {
            r.eat(",");
        } else if r.eat_seq("seen from the side") {
            p.view = View::Side;
            r.eat(",");
        }
        loop {
            p.clause(&mut r)?;
            if p.objects.len() > MAX_OBJECTS {
                return Err(PromptError::ObjectCount(p.objects.len()));
            }
            let sep = r.eat(",") | r.eat("and");
            if r.peek().is_none() || (r.peek() == Some(".") && r.at + 1 == words.len()) {
                break;
            }
            if !sep {
                return r.fail("\",\" or \"and\" before the next object");
            }
        }
        if p.objects.is_empty() {
            return Err(PromptError::ObjectCount(0));
        }
        Ok(p)
    }

    fn clause(&mut self, r: &mut Reader) -> Result<(), PromptError> {
        let Some(n) = r.count() else {
            return r.fail("\"a\", \"an\" or a number (two to five) starting an object or a zone");
        };
        // A zone: "a green zone on the left".
        if n == 1 {
            if let Some(colour) = r.peek().and_then(|w| {
                ZoneColour::ALL
                    .into_iter()
                    .find(|z| zone_colour_word(*z) == w)
            }) {
                r.at += 1;
                if !r.eat("zone") {
                    return r.fail("\"zone\"");
                }
                let Some(anchor) = [Anchor::Left, Anchor::Right, Anchor::Top, Anchor::Bottom]
                    .into_iter()
                    .find(|a| r.eat_seq(anchor_words(*a)))
                else {
                    return r.fail(
                        "where the zone is: on the left, on the right, at the top, at the bottom",
                    );
                };
                if self.view == View::Side && matches!(anchor, Anchor::Top | Anchor::Bottom) {
                    return Err(PromptError::SideZone);
                }
                if self.zones.iter().any(|z| z.colour == colour) {
                    return Err(PromptError::DuplicateZone(zone_colour_word(colour)));
                }
                if self.zones.iter().any(|z| z.anchor == anchor) {
                    return Err(PromptError::ZonePlace(anchor_words(anchor)));
                }
                self.zones.push(Zone { colour, anchor });
                return Ok(());
            }
        }
        let start = r.at;
        let (looks, plural) = r.looks()?;
        if plural != (n > 1) {
            r.at = start;
            return r.fail(if n > 1 {
                "a plural shape (balls or boxes)"
            } else {
                "a singular shape (ball or box)"
            });
        }
        let subjects: Vec<usize> = (self.objects.len()..self.objects.len() + n).collect();
        self.objects.extend(std::iter::repeat_n(looks, n));
        let relation_at = r.at;
        let Some(rel) = r.relation() else {
            return Ok(());
        };
        if self.view == View::Side && matches!(rel, Relation::Above | Relation::Below) {
            return Err(PromptError::SideRelation(relation_words(rel).into()));
        }
        let reference = if r.eat("the") {
            let ref_start = r.at;
            let (l, plural) = r.looks()?;
            if plural {
                r.at = ref_start;
                return r.fail("one object after \"the\"");
            }
            let phrase = format!("the {}", looks_words(l, false));
            // "the red ball" names an earlier object; size may be left out when unique.
            let matches: Vec<usize> = (0..subjects[0])
                .filter(|&i| {
                    let o = self.objects[i];
                    o.colour == l.colour
                        && o.shape == l.shape
                        && (l.size == Size::Medium || o.size == l.size)
                })
                .collect();
            let exact: Vec<usize> = matches
                .iter()
                .copied()
                .filter(|&i| self.objects[i].size == l.size)
                .collect();
            match (matches.as_slice(), exact.as_slice()) {
                (_, [i]) => *i,
                ([i], _) => *i,
                ([], _) => return Err(PromptError::UnknownReference(phrase)),
                (m, _) => return Err(PromptError::AmbiguousReference(phrase, m.len())),
            }
        } else if matches!(r.peek(), Some("a" | "an")) {
            r.at += 1;
            let ref_start = r.at;
            let (l, plural) = r.looks()?;
            if plural {
                r.at = ref_start;
                return r.fail("one object after \"a\"");
            }
            self.objects.push(l);
            self.objects.len() - 1
        } else {
            r.at = relation_at + relation_words(rel).split(' ').count();
            return r.fail("\"a ...\" or \"the ...\" after the relation");
        };
        self.relations
            .extend(subjects.into_iter().map(|s| (s, rel, reference)));
        Ok(())
    }

    /// The prompt in words, in a canonical form that [`ScenePrompt::parse`] reads back to
    /// an equal prompt.
    pub fn text(&self) -> String {
        let mut clauses: Vec<String> = Vec::new();
        let mut i = 0;
        let n = self.objects.len();
        let relation_of = |s: usize| {
            self.relations
                .iter()
                .find(|(a, _, _)| *a == s)
                .map(|&(_, r, b)| (r, b))
        };
        while i < n {
            let looks = self.objects[i];
            let rel = relation_of(i);
            // Group identical objects with the same relation: "two red balls ...". A new
            // reference object (introduced in this clause) comes right after the group.
            let mut count = 1;
            while i + count < n
                && self.objects[i + count] == looks
                && relation_of(i + count) == rel
                && rel.is_none_or(|(_, b)| b != i + count)
            {
                count += 1;
            }
            let head = if count == 1 {
                format!("{} {}", article(looks), looks_words(looks, false))
            } else {
                format!("{} {}", NUMBERS[count], looks_words(looks, true))
            };
            let mut next = i + count;
            let clause = match rel {
                None => head,
                Some((r, b)) if b < i => {
                    format!(
                        "{head} {} the {}",
                        relation_words(r),
                        self.reference_words(b)
                    )
                }
                Some((r, b)) => {
                    // b == next: a new object introduced by this clause.
                    next = b.max(next - 1) + 1;
                    let l = self.objects[b];
                    format!(
                        "{head} {} {} {}",
                        relation_words(r),
                        article(l),
                        looks_words(l, false)
                    )
                }
            };
            clauses.push(clause);
            i = next;
        }
        for z in &self.zones {
            clauses.push(format!(
                "a {} zone {}",
                zone_colour_word(z.colour),
                anchor_words(z.anchor)
            ));
        }
        let view = match self.view {
            View::TopDown => "seen from above",
            View::Side => "seen from the side",
        };
        // "a, b and c": commas, with "and" before the last clause.
        let body = match clauses.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => clauses.join(""),
        };
        format!("{view}, {body}")
    }

    /// Words naming earlier object `b` uniquely among the objects before the clause that
    /// uses it: size is said only when colour and shape are shared.
    fn reference_words(&self, b: usize) -> String {
        let l = self.objects[b];
        let shared = self
            .objects
            .iter()
            .filter(|o| o.colour == l.colour && o.shape == l.shape)
            .count();
        if shared > 1 || l.size == Size::Medium {
            looks_words(l, false)
        } else {
            // Unique by colour and shape: the size word is optional; keep it out so the
            // reference reads naturally ("the blue box").
            let mut plain = l;
            plain.size = Size::Medium;
            looks_words(plain, false)
        }
    }

    /// A prompt that describes `scene`'s first frame: objects from left to right, each placed
    /// relative to the one before it, then the zones.
    pub fn describe(scene: &Scene) -> ScenePrompt {
        ScenePrompt::describe_in_order(scene).0
    }

    /// [`ScenePrompt::describe`], with the scene's index of each object the prompt names (the
    /// prompt's object `k` is the scene's object `order[k]`: left to right).
    pub fn describe_in_order(scene: &Scene) -> (ScenePrompt, Vec<usize>) {
        let mut order: Vec<usize> = (0..scene.objects.len()).collect();
        order.sort_by(|&a, &b| {
            scene.objects[a].position[0].total_cmp(&scene.objects[b].position[0])
        });
        let objects: Vec<ObjectLooks> = order.iter().map(|&i| (&scene.objects[i]).into()).collect();
        let mut relations = Vec::new();
        for k in 1..order.len() {
            let (a, b) = (
                scene.objects[order[k]].position,
                scene.objects[order[k - 1]].position,
            );
            let candidates: &[Relation] = match scene.view {
                View::TopDown => &[Relation::RightOf, Relation::Above, Relation::Below],
                View::Side => &[Relation::RightOf],
            };
            // The relation that holds by the widest margin, if any holds.
            let best = candidates
                .iter()
                .filter(|r| r.holds(a, b))
                .max_by(|x, y| margin(**x, a, b).total_cmp(&margin(**y, a, b)));
            // Only refer back to an object the text can name uniquely.
            let nameable = objects.iter().filter(|o| **o == objects[k - 1]).count() == 1;
            if let (Some(&r), true) = (best, nameable) {
                relations.push((k, r, k - 1));
            }
        }
        let prompt = ScenePrompt {
            view: scene.view,
            objects,
            relations,
            zones: scene.zones.clone(),
        };
        (prompt, order)
    }

    /// Another sentence for `scene`'s first frame, drawn with `rng` from everything the grammar
    /// can say about it: the objects in any order, each with no relation, a relation that holds
    /// to an earlier object the text can name uniquely, or one to a new object introduced in
    /// the same clause ("a red ball to the left of a big blue box"); the zones; the view left
    /// unsaid from above half the time. With the scene's index of each object it names.
    pub fn paraphrase(scene: &Scene, rng: &mut impl rand::Rng) -> (ScenePrompt, Vec<usize>, String) {
        let n = scene.objects.len();
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let objects: Vec<ObjectLooks> = order.iter().map(|&i| (&scene.objects[i]).into()).collect();
        let candidates: &[Relation] = match scene.view {
            View::TopDown => &[Relation::LeftOf, Relation::RightOf, Relation::Above, Relation::Below],
            View::Side => &[Relation::LeftOf, Relation::RightOf],
        };
        let pos = |k: usize| scene.objects[order[k]].position;
        let holding = |a: usize, b: usize| -> Vec<Relation> { candidates.iter().copied().filter(|r| r.holds(pos(a), pos(b))).collect() };
        let nameable = |j: usize| objects.iter().filter(|o| **o == objects[j]).count() == 1;
        let mut relations = Vec::new();
        let mut k = 0;
        while k < n {
            let choice = rng.random_range(0..4);
            if choice == 1 && k > 0 {
                let j = rng.random_range(0..k);
                let rs = holding(k, j);
                if nameable(j) && !rs.is_empty() {
                    relations.push((k, rs[rng.random_range(0..rs.len())], j));
                }
            } else if choice >= 2 && k + 1 < n {
                let rs = holding(k, k + 1);
                if !rs.is_empty() {
                    relations.push((k, rs[rng.random_range(0..rs.len())], k + 1));
                    k += 1; // the new object is introduced in this clause
                }
            }
            k += 1;
        }
        let mut zones = scene.zones.clone();
        if zones.len() == 2 && rng.random_bool(0.5) {
            zones.swap(0, 1);
        }
        let prompt = ScenePrompt { view: scene.view, objects, relations, zones };
        let mut text = prompt.text();
        if scene.view == View::TopDown && rng.random_bool(0.5) {
            text = text.trim_start_matches("seen from above, ").to_string();
        }
        (prompt, order, text)
    }

    /// Lays the prompt out as a scene: random positions that satisfy every relation, random
    /// hidden properties, all drawn from `seed`.
    pub fn realize(&self, seed: u64) -> Result<Scene, PromptError> {
        if self.objects.is_empty() || self.objects.len() > MAX_OBJECTS {
            return Err(PromptError::ObjectCount(self.objects.len()));
        }
        let mut rng = rng_from_seed(seed);
        let mut scene = Scene {
            view: self.view,
            floor: if rand::Rng::random_bool(&mut rng, 0.5) {
                crate::scene::Friction::Slippery
            } else {
                crate::scene::Friction::Rough
            },
            side_walls: true,
            objects: Vec::new(),
            zones: self.zones.clone(),
            agent_start: [0.0, 0.0],
        };
        scene.place(&self.objects, &self.relations, &mut rng)?;
        Ok(scene)
    }
}

fn margin(r: Relation, a: [f32; 2], b: [f32; 2]) -> f32 {
    match r {
        Relation::LeftOf => b[0] - a[0],
        Relation::RightOf => a[0] - b[0],
        Relation::Above => a[1] - b[1],
        Relation::Below => b[1] - a[1],
    }
}
