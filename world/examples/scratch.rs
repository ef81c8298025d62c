use world::episode::{generate_episode, EpisodeConfig};
fn main() {
    let cfg = EpisodeConfig::default();
    let t = std::time::Instant::now();
    let mut hits = 0;
    let n = 200;
    let mut kinds = std::collections::BTreeMap::new();
    for s in 0..n {
        let e = generate_episode(s, &cfg).unwrap();
        if e.events.iter().any(|ev| {
            matches!(
                ev.kind,
                world::events::EventKind::Collision {
                    a: world::events::Entity::Agent,
                    b: world::events::Entity::Object(_)
                }
            )
        }) {
            hits += 1;
        }
        for q in &e.questions {
            *kinds.entry((q.kind, q.answer.clone())).or_insert(0) += 1;
        }
        if s < 4 {
            println!(
                "{}\n  {}\n  {}",
                e.prompt,
                e.caption,
                e.questions
                    .iter()
                    .map(|q| format!(
                        "[{:?}@{}] {} -> {}",
                        q.kind, q.clip_frames, q.question, q.answer
                    ))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            );
        }
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{} episodes in {:.2}s = {:.0} frames/s; agent-object contact {}/{}",
        n,
        dt,
        n as f64 * 41.0 / dt,
        hits,
        n
    );
    for (k, v) in kinds {
        println!("{:?} {}", k, v);
    }
}
