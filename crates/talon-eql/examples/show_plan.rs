//! Prints the compiled condition of an event query: how lowering shaped it.
//!
//! `cargo run -p talon-eql --example show_plan -- 'process where ...'`
fn main() {
    let q = std::env::args().nth(1).unwrap_or_default();
    match talon_eql::compile_str(&q, &Default::default()) {
        Ok(c) => println!("{:#?}", c.event_plan().map(|p| p.condition())),
        Err(e) => println!("{e:?}"),
    }
}
