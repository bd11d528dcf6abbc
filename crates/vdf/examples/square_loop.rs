//! Squares the generator `N` times (default 200000): a target for profilers.
fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let mut g = qnode_vdf::ClassGroup::new(qnode_vdf::create_discriminant(b"profile"));
    let mut x = g.generator();
    let start = std::time::Instant::now();
    g.square_n(&mut x, n);
    let per = start.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("{n} squarings, {per:.2} µs each");
}
