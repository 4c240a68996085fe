//! Differential tests against GNU objdump (skipped when binutils for AArch64
//! is not installed).
//!
//! Two corpora: `tests/data/corpus.s`, hand-written assembly covering every
//! table row and alias; and random words drawn from every table pattern
//! (mask/value with random don't-care bits), fed to `as` as `.inst`.
//!
//! Accepted differences (kept short on purpose):
//! - objdump's `// comment` tails and `<symbol+off>` after addresses are dropped;
//! - where we print a generic form (`sN_N_cN_cN_N` system register, `hint #n`,
//!   `sys #..`) objdump may know a newer architectural name: accepted;
//! - objdump rejects LDPSW whose registers overlap (Rt == Rt2, or writeback
//!   onto Rt/Rt2); that is CONSTRAINED UNPREDICTABLE and we decode it like LDP;
//! - words we decode as `Unallocated` are not compared (objdump knows later
//!   extensions such as PAuth and MTE that this decoder rejects), except in the
//!   FP/SIMD rows, where objdump must agree they are undefined unless the
//!   mnemonic is in `LATER_EXTENSIONS`.

use crate::table::{parse_pattern, ENTRIES};
use crate::{decode, Insn};
use std::path::{Path, PathBuf};
use std::process::Command;

const AS: &str = "aarch64-linux-gnu-as";
const OBJDUMP: &str = "aarch64-linux-gnu-objdump";
const PER_PATTERN: usize = 200;

fn tools_present() -> bool {
    [AS, OBJDUMP].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arm-decode-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("mkdir {d:?}: {e}"));
    d
}

/// Assemble `src` and return (address, word, objdump text) for every insn.
fn objdump(src: &str, dir: &Path) -> Vec<(u64, u32, String)> {
    let s = dir.join("in.s");
    let o = dir.join("in.o");
    std::fs::write(&s, src).unwrap_or_else(|e| panic!("write: {e}"));
    let st = Command::new(AS)
        .args(["-march=armv8.5-a+fp16+aes+sha2"])
        .arg(&s)
        .arg("-o")
        .arg(&o)
        .status()
        .unwrap_or_else(|e| panic!("run as: {e}"));
    assert!(st.success(), "assembler failed");
    let out = Command::new(OBJDUMP)
        .arg("-d")
        .arg(&o)
        .output()
        .unwrap_or_else(|e| panic!("run objdump: {e}"));
    let _ = std::fs::remove_dir_all(dir);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut v = Vec::new();
    for line in text.lines() {
        // "  1c:\td2a00000 \tmovz\tx0, #0x0, lsl #16"
        let mut parts = line.splitn(3, '\t');
        let (Some(a), Some(w), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Some(a) = a.trim().strip_suffix(':') else {
            continue;
        };
        let (Ok(addr), Ok(word)) = (
            u64::from_str_radix(a, 16),
            u32::from_str_radix(w.trim(), 16),
        ) else {
            continue;
        };
        v.push((addr, word, normalise(rest)));
    }
    v
}

/// Drop comments and symbol annotations, collapse whitespace.
fn normalise(s: &str) -> String {
    let mut s = s.split("//").next().unwrap_or("").to_string();
    while let (Some(a), Some(b)) = (s.find(" <"), s.find('>')) {
        if b < a {
            break;
        }
        s.replace_range(a..=b, "");
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn generic_ok(ours: &str) -> bool {
    ours.starts_with("hint #")
        || ours.starts_with("sys #")
        || ((ours.starts_with("mrs ") || ours.starts_with("msr "))
            && ours.split([' ', ',']).any(|t| {
                t.starts_with('s')
                    && t.contains("_c")
                    && t.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
            }))
}

fn compare(rows: &[(u64, u32, String)]) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut bad = Vec::new();
    for (addr, word, theirs) in rows {
        let insn = decode(*word);
        if matches!(insn, Insn::Unallocated(_)) && *word >> 16 != 0 {
            continue;
        }
        let ours = insn.display_at(*addr).to_string();
        compared += 1;
        let ldpsw_overlap = ours.starts_with("ldpsw ") && theirs.starts_with(".inst");
        if ours != *theirs && !generic_ok(&ours) && !ldpsw_overlap {
            bad.push(format!("{word:08x}: ours `{ours}` objdump `{theirs}`"));
        }
    }
    (compared, bad)
}

/// Rows of the FP/SIMD/crypto encodings (named with these prefixes).
fn is_fpsimd_row(name: &str) -> bool {
    ["fp_", "simd_", "crypto_"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Mnemonics of extensions beyond the decoder's base (objdump knows them all).
fn later_extension(theirs: &str) -> bool {
    let m = theirs.split(' ').next().unwrap_or("");
    LATER_EXTENSIONS.contains(&m)
}

const LATER_EXTENSIONS: &[&str] = &[
    // FEAT_JSCVT, FEAT_FRINTTS
    "fjcvtzs", "frint32x", "frint32z", "frint64x", "frint64z", // FEAT_BF16
    "bfcvt", "bfcvtn", "bfcvtn2", "bfdot", "bfmlalb", "bfmlalt",
    // FEAT_RDM, FEAT_FCMA, FEAT_FHM, FEAT_DotProd, FEAT_I8MM
    "sqrdmlah", "sqrdmlsh", "fcmla", "fmlal", "fmlal2", "fmlsl", "fmlsl2", "sdot", "udot", "usdot",
    "sudot",
];

#[test]
fn corpus_matches_objdump() {
    if !tools_present() {
        eprintln!("skipping: {AS}/{OBJDUMP} not on PATH");
        return;
    }
    let src = include_str!("../tests/data/corpus.s");
    let rows = objdump(src, &scratch("corpus"));
    let lines = src.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(rows.len(), lines, "objdump row count");
    let (n, bad) = compare(&rows);
    // Every corpus line is an instruction we decode.
    let undecoded: Vec<String> = rows
        .iter()
        .filter(|r| matches!(decode(r.1), Insn::Unallocated(_)) && r.1 >> 16 != 0)
        .map(|r| format!("{:08x} {}", r.1, r.2))
        .collect();
    assert_eq!(n, rows.len(), "decoded as Unallocated: {undecoded:?}");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn random_table_words_match_objdump() {
    if !tools_present() {
        eprintln!("skipping: {AS}/{OBJDUMP} not on PATH");
        return;
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut src = String::new();
    for e in ENTRIES {
        let p = parse_pattern(e.pattern).unwrap_or_else(|m| panic!("{m}"));
        for _ in 0..PER_PATTERN {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let w = ((seed >> 11) as u32 & !p.mask) | p.value;
            src.push_str(&format!(".inst {w:#010x}\n"));
        }
    }
    let rows = objdump(&src, &scratch("random"));
    assert_eq!(rows.len(), ENTRIES.len() * PER_PATTERN);
    let (n, mut bad) = compare(&rows);
    // In the FP/SIMD rows the other direction holds too: what we leave
    // unallocated, objdump does not know either (bar later extensions).
    for (i, (_, word, theirs)) in rows.iter().enumerate() {
        let e = &ENTRIES[i / PER_PATTERN];
        if is_fpsimd_row(e.name)
            && matches!(decode(*word), Insn::Unallocated(_))
            && !theirs.starts_with(".inst")
            && !later_extension(theirs)
        {
            bad.push(format!(
                "{word:08x} ({}): ours unallocated, objdump `{theirs}`",
                e.name
            ));
        }
    }
    assert!(n > rows.len() / 2, "too few decoded: {n}");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
