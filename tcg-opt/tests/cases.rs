//! IR text in, IR text out: every `tests/cases/NAME.ir` is parsed, optimized, verified and
//! printed, and must equal `NAME.out`. `TCG_OPT_BLESS=1` rewrites the expected files.

use std::path::Path;
use tcg_ir::text::parse;
use tcg_ir::verify::verify;
use tcg_ir::{Helper, HelperFlags};

/// Helpers the cases can name (never called: the addresses are placeholders).
static PURE: Helper = Helper {
    name: "pure",
    addr: 1,
    nargs: 2,
    has_ret: true,
    flags: HelperFlags::NO_READ_GLOBALS
        .union(HelperFlags::NO_WRITE_GLOBALS)
        .union(HelperFlags::NO_SIDE_EFFECTS),
};
static CLOBBER: Helper = Helper {
    name: "clobber",
    addr: 1,
    nargs: 1,
    has_ret: true,
    flags: HelperFlags::empty(),
};
static READER: Helper = Helper {
    name: "reader",
    addr: 1,
    nargs: 1,
    has_ret: false,
    flags: HelperFlags::NO_WRITE_GLOBALS,
};

#[test]
fn ir_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let bless = std::env::var("TCG_OPT_BLESS").is_ok_and(|v| v == "1");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    for input in &names {
        let src = std::fs::read_to_string(input).unwrap();
        let mut f = parse(&src, &[&PURE, &CLOBBER, &READER])
            .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        verify(&f).unwrap_or_else(|e| panic!("{}: input does not verify: {e}", input.display()));
        tcg_opt::optimize(&mut f);
        verify(&f)
            .unwrap_or_else(|e| panic!("{}: output does not verify: {e}\n{f}", input.display()));
        let got = f.to_string();
        let expected_path = input.with_extension("out");
        if bless {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{}:\n--- expected\n{want}--- got\n{got}",
                input.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
