use world::{scene::Scene, sim::Simulator, render::Renderer, action::Action};
fn main() {
    let mut out = Vec::new();
    for seed in 0..8u64 {
        let scene = Scene::generate(seed);
        let mut sim = Simulator::new(&scene);
        let mut r = Renderer::new(128, 128).unwrap();
        for f in 0..30 { let a = Action::from_discrete(((f/6)%9) as u8); sim.step(a); }
        let rgb = r.draw_rgb(&scene, &sim.state());
        out.push(rgb);
        println!("{seed}: {:?} objs={} events={:?}", scene.view, scene.objects.len(), sim.events().iter().take(6).collect::<Vec<_>>());
    }
    // tile 4x2
    let (w,h)=(128usize,128usize); let mut img = vec![0u8; w*4*h*2*3];
    for (i, f) in out.iter().enumerate() { let (tx,ty)=(i%4,i/4); for y in 0..h { for x in 0..w { for c in 0..3 { img[((ty*h+y)*w*4 + tx*w+x)*3+c] = f[(y*w+x)*3+c]; }}}}
    let mut s = format!("P6 {} {} 255\n", w*4, h*2).into_bytes(); s.extend(img); std::fs::write("/tmp/tiles.ppm", s).unwrap();
}
