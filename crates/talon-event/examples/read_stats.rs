//! Reads the inputs named on the command line and prints what was read:
//! one line per event (origin, index, id, field count) and the stats.

use talon_event::read::{EventReader, ReadOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reader = match EventReader::from_args(&args, ReadOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let quiet = std::env::var_os("QUIET").is_some();
    let mut reader = reader;
    for item in reader.by_ref() {
        match item {
            Ok(e) if !quiet => println!(
                "{}:{} seq={} index={:?} id={:?} fields={}",
                e.origin.file,
                e.origin.line,
                e.seq,
                e.index.as_deref(),
                e.id.as_deref(),
                e.len()
            ),
            Ok(_) => {}
            Err(i) if !quiet => println!("ISSUE {i}"),
            Err(_) => {}
        }
    }
    eprintln!("{}", reader.stats());
}
