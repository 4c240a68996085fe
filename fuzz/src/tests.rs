//! Replays the seed corpora (`corpus/TARGET/`) and the inputs of fixed findings
//! (`regressions/TARGET/`) through the targets: each must run without a panic.

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let data = std::fs::read(e.path()).expect("readable input");
            f(&data);
            n += 1;
        }
    }
    assert!(n > 0, "no seed inputs for {target}");
}

#[test]
fn decode_inputs() {
    replay("decode", super::decode);
}

#[test]
fn translate_inputs() {
    replay("translate", super::translate);
}

#[test]
fn loaders_inputs() {
    replay("loaders", super::loaders);
}

#[test]
fn mmio_inputs() {
    replay("mmio", super::mmio);
}

#[test]
fn virtq_inputs() {
    replay("virtq", super::virtq);
}
