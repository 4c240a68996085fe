//! The QEMU side: one `qemu-aarch64` process runs a whole batch of cases through the
//! static harness built from `guests/difftest/` (see the protocol there).

use crate::gen::Case;
use crate::layout::{SCRATCH_SIZE, STATE_WORDS, W_FPCR, W_FPSR, W_NZCV, W_V};
use crate::State;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The harness input for a batch.
pub fn encode(cases: &[Case]) -> Vec<u8> {
    let mut out = Vec::new();
    let put = |v: u64, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
    for c in cases {
        put(c.words.len() as u64, &mut out);
        put(c.scratch_seed, &mut out);
        for &x in &c.x {
            put(x, &mut out);
        }
        put(c.sp, &mut out);
        put(c.nzcv, &mut out);
        put(c.fpcr, &mut out);
        put(c.fpsr, &mut out);
        for v in &c.v {
            put(v[0], &mut out);
            put(v[1], &mut out);
        }
        for w in &c.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        if c.words.len() % 2 == 1 {
            out.extend_from_slice(&[0; 4]);
        }
    }
    put(u64::MAX, &mut out);
    out
}

const RECORD: usize = STATE_WORDS * 8 + SCRATCH_SIZE as usize;

/// The states the harness produced, and, if it stopped early, why.
pub struct QemuRun {
    pub states: Vec<State>,
    pub problem: Option<String>,
}

pub fn run(qemu: &Path, harness: &Path, cases: &[Case]) -> Result<QemuRun, String> {
    let mut child = Command::new(qemu)
        .arg(harness)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {} {}: {e}", qemu.display(), harness.display()))?;
    let input = encode(cases);
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let writer = std::thread::spawn(move || {
        // A harness that died early closes the pipe; that is reported below.
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .ok_or("no stdout")?
        .read_to_end(&mut out)
        .map_err(|e| format!("reading the harness output: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let _ = writer.join();
    let err = err_reader.join().unwrap_or_default();
    let states: Vec<State> = out.chunks_exact(RECORD).map(decode_record).collect();
    let problem = if states.len() < cases.len() || !status.success() {
        Some(format!(
            "qemu-aarch64 harness stopped after {} of {} cases ({status}){}",
            states.len(),
            cases.len(),
            if err.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", err.trim())
            }
        ))
    } else {
        None
    };
    Ok(QemuRun { states, problem })
}

fn decode_record(r: &[u8]) -> State {
    // Records are cut to their fixed size by the caller; a short one reads as zeros.
    let u = |i: usize| {
        r.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    State {
        x: std::array::from_fn(u),
        sp: u(31),
        nzcv: u(W_NZCV) & 0xf000_0000,
        // FPCR and FPSR are compared unmasked: we must read back what QEMU does.
        fpcr: u(W_FPCR),
        fpsr: u(W_FPSR),
        v: std::array::from_fn(|n| [u(W_V + 2 * n), u(W_V + 2 * n + 1)]),
        scratch: r.get(STATE_WORDS * 8..).unwrap_or_default().to_vec(),
    }
}
