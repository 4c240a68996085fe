//! RISU-style random differential testing of our A64 front end and back ends against
//! QEMU (`qemu-aarch64`, user mode).
//!
//! [`gen`] makes random instruction sequences from `arm_decode`'s pattern table with a
//! random initial state; [`qemu`] runs a batch of them in one qemu-user process through
//! the static harness in `guests/difftest/`; [`ours`] runs them in-process through our
//! translator, optimiser and a back end; [`compare`] checks X0-X30, SP, NZCV, V0-V31,
//! FPCR, FPSR and the scratch block. `cargo xtask difftest` drives the binary.

pub mod gen;
pub mod layout;
pub mod ours;
pub mod qemu;

use gen::Case;
use layout::SEQ;
use std::fmt::Write;

/// The architectural state compared after a sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub x: [u64; 31],
    pub sp: u64,
    /// NZCV in bits 31..28.
    pub nzcv: u64,
    /// V0-V31 as (bits 63..0, bits 127..64).
    pub v: [[u64; 2]; 32],
    pub fpcr: u64,
    pub fpsr: u64,
    pub scratch: Vec<u8>,
}

/// Known bugs of our side, tolerated until fixed (each line names the bug). A tested word
/// matching `mask/value` makes a mismatching case count as "known" instead of failing.
pub struct KnownBug {
    pub mask: u32,
    pub value: u32,
    pub what: &'static str,
}

pub const KNOWN_BUGS: &[KnownBug] = &[];

/// The known bug a case may be hitting, if any tested word matches one.
pub fn known_bug(case: &Case) -> Option<&'static KnownBug> {
    case.words
        .iter()
        .zip(&case.tested)
        .filter(|(_, &t)| t)
        .find_map(|(w, _)| KNOWN_BUGS.iter().find(|b| w & b.mask == b.value))
}

/// Lists the sequence with disassembly.
pub fn listing(case: &Case) -> String {
    let mut s = String::new();
    for (i, (&w, &t)) in case.words.iter().zip(&case.tested).enumerate() {
        let pc = SEQ + 4 * i as u64;
        let insn = arm_decode::decode(w);
        let _ = writeln!(
            s,
            "    {pc:#x}: {w:08x}  {:<40} {}",
            insn.display_at(pc).to_string(),
            if t { "" } else { "(setup)" }
        );
    }
    s
}

/// The initial state, for a report.
pub fn initial(case: &Case) -> String {
    let mut s = String::new();
    for (i, x) in case.x.iter().enumerate() {
        let _ = write!(
            s,
            "x{i:<2}={x:#018x}{}",
            if i % 4 == 3 || i == 30 { "\n" } else { "  " }
        );
    }
    let _ = writeln!(
        s,
        "sp ={:#018x}  nzcv={:#x}  scratch seed={:#x}",
        case.sp,
        case.nzcv >> 28,
        case.scratch_seed
    );
    let _ = writeln!(s, "fpcr={:#010x}  fpsr={:#010x}", case.fpcr, case.fpsr);
    for (i, v) in case.v.iter().enumerate() {
        let _ = write!(
            s,
            "v{i:<2}={}{}",
            vreg(*v),
            if i % 2 == 1 { "\n" } else { "  " }
        );
    }
    s
}

/// A V register as one 128-bit hex number.
pub fn vreg(v: [u64; 2]) -> String {
    format!("{:016x}_{:016x}", v[1], v[0])
}

/// Compares two end states; `None` when equal, else a report of every difference
/// (differing registers are marked with `*`).
pub fn compare(qemu: &State, ours: &State) -> Option<String> {
    if qemu == ours {
        return None;
    }
    let mut s = String::from("    reg      qemu                ours\n");
    let mut row = |name: String, a: u64, b: u64| {
        let mark = if a != b { "*" } else { " " };
        let _ = writeln!(s, "  {mark} {name:<5}  {a:#018x}  {b:#018x}");
    };
    for i in 0..31 {
        row(format!("x{i}"), qemu.x[i], ours.x[i]);
    }
    row("sp".into(), qemu.sp, ours.sp);
    row("nzcv".into(), qemu.nzcv >> 28, ours.nzcv >> 28);
    row("fpcr".into(), qemu.fpcr, ours.fpcr);
    row("fpsr".into(), qemu.fpsr, ours.fpsr);
    // Only the differing V registers: 32 equal 128-bit rows would bury the difference.
    for (i, (a, b)) in qemu.v.iter().zip(&ours.v).enumerate() {
        if a != b {
            let _ = writeln!(
                s,
                "  * v{i:<4}  qemu {}\n            ours {}",
                vreg(*a),
                vreg(*b)
            );
        }
    }
    let diffs: Vec<usize> = (0..qemu.scratch.len())
        .filter(|&i| qemu.scratch.get(i) != ours.scratch.get(i))
        .collect();
    if !diffs.is_empty() {
        let _ = writeln!(s, "  * scratch differs in {} byte(s):", diffs.len());
        let mut shown = 0;
        let mut last_line = usize::MAX;
        for &i in &diffs {
            let line = i & !15;
            if line == last_line {
                continue;
            }
            last_line = line;
            shown += 1;
            if shown > 8 {
                let _ = writeln!(s, "      ...");
                break;
            }
            let hex = |v: &[u8]| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let _ = writeln!(
                s,
                "      {:#x}: qemu {}\n      {:>w$}  ours {}",
                layout::SCRATCH + line as u64,
                hex(&qemu.scratch[line..line + 16]),
                "",
                hex(&ours.scratch[line..line + 16]),
                w = format!("{:#x}", layout::SCRATCH + line as u64).len()
            );
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests;
