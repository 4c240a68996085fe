//! The text form of the IR: `Display` for `Func`, and [`parse`].
//!
//! ```text
//! global x0:i64 @0x40        # a global at env+0x40
//! local t1:i64
//!   insn_start 0x40000000
//!   add.i64 t1, x0, $0x10
//!   brcond.i64 t1, $0x0, eq, L0
//! L0:
//!   exit_tb 2
//! ```

use crate::backend::Helper;
use crate::func::{Func, Label, Op, Temp, TempData, TempKind};
use crate::opcodes::{CArg, OpFlags, Opc};
use crate::types::{BarrierFlags, Cond, MemOp, RmwOp, Type};
use crate::vector::VecShape;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::fmt;

fn carg_text(func: &Func, kind: CArg, v: u64) -> String {
    match kind {
        CArg::Int if v < 10 => format!("{v}"),
        CArg::Int => format!("{v:#x}"),
        CArg::Cond => Cond::from_u64(v).map_or(format!("?{v}"), |c| c.name().to_string()),
        CArg::MemOp => MemOp(v as u8).name(),
        CArg::Mmu => format!("mmu{v}"),
        CArg::Label => format!("L{v}"),
        CArg::Helper => func
            .helpers
            .get(v as usize)
            .map_or(format!("?helper{v}"), |h| h.name.to_string()),
        CArg::Barrier => BarrierFlags::from_bits_retain(v as u8).text(),
        CArg::Rmw => RmwOp::from_u64(v).map_or(format!("?{v}"), |r| r.name().to_string()),
        CArg::Vec => VecShape::from_carg(v).map_or(format!("?{v}"), |s| s.name()),
        CArg::Env => format!("@{v:#x}"),
    }
}

/// Prints one op (without indentation).
pub fn op_text(func: &Func, op: &Op) -> String {
    let d = op.opc.def();
    if op.opc == Opc::SetLabel {
        return format!("L{}:", op.cargs.first().copied().unwrap_or(0));
    }
    let mut s = String::from(d.name);
    if !d.flags.contains(OpFlags::UNTYPED) && op.opc != Opc::Call {
        s.push('.');
        s.push_str(op.ty.name());
    }
    let mut parts: Vec<String> = Vec::new();
    if op.opc == Opc::Call {
        parts.push(carg_text(func, CArg::Helper, op.cargs[0]));
    }
    let temps = op
        .oargs
        .iter()
        .chain(op.iargs.iter())
        .map(|&t| func.temp_name(t));
    let cargs = op
        .cargs
        .iter()
        .zip(d.cargs.iter())
        .map(|(&c, &k)| carg_text(func, k, c));
    if op.opc == Opc::Call {
        parts.extend(temps);
    } else if d.flags.contains(OpFlags::VECTOR) {
        // Shape and operands first, like an A64 instruction; the scalar input last.
        parts.extend(cargs);
        parts.extend(temps);
    } else {
        parts.extend(temps);
        parts.extend(cargs);
    }
    if !parts.is_empty() {
        s.push(' ');
        s.push_str(&parts.join(", "));
    }
    s
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.temps.iter().enumerate() {
            match t.kind {
                TempKind::Global { offset } => writeln!(
                    f,
                    "global {}:{} @{offset:#x}",
                    self.temp_name(Temp(i as u32)),
                    t.ty
                )?,
                TempKind::Local => {
                    writeln!(f, "local {}:{}", self.temp_name(Temp(i as u32)), t.ty)?
                }
                TempKind::Const(_) => {}
            }
        }
        if self.self_loops != 0 {
            writeln!(f, "self_loops {:#x}", self.self_loops)?;
        }
        for op in &self.ops {
            if op.opc == Opc::SetLabel {
                writeln!(f, "{}", op_text(self, op))?;
            } else {
                writeln!(f, "  {}", op_text(self, op))?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16).ok()?,
        None => s.replace('_', "").parse::<u64>().ok()?,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses IR text; `helpers` resolves the names used by `call`.
pub fn parse(src: &str, helpers: &[&'static Helper]) -> Result<Func, ParseError> {
    let mut func = Func::default();
    let mut names: HashMap<String, Temp> = HashMap::new();
    for (ln, raw) in src.lines().enumerate() {
        let line_no = ln + 1;
        let err = |m: String| ParseError {
            line: line_no,
            message: m,
        };
        let line = raw.split(['#', ';']).next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(l) = line.strip_suffix(':') {
            let n = l
                .strip_prefix('L')
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| err(format!("bad label `{l}`")))?;
            func.nb_labels = func.nb_labels.max(n + 1);
            func.ops.push(Op {
                opc: Opc::SetLabel,
                ty: Type::I64,
                oargs: SmallVec::new(),
                iargs: SmallVec::new(),
                cargs: SmallVec::from_slice(&[n as u64]),
            });
            continue;
        }
        let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if head == "self_loops" {
            func.self_loops = parse_int(rest)
                .and_then(|v| u8::try_from(v).ok())
                .ok_or_else(|| err(format!("bad self_loops mask `{rest}`")))?;
            continue;
        }
        if head == "global" || head == "local" {
            let mut it = rest.split_whitespace();
            let decl = it.next().ok_or_else(|| err("missing name:type".into()))?;
            let (name, ty) = decl
                .split_once(':')
                .ok_or_else(|| err("expected name:type".into()))?;
            let ty = Type::from_name(ty).ok_or_else(|| err(format!("unknown type `{ty}`")))?;
            let kind = if head == "global" {
                let off = it
                    .next()
                    .and_then(|o| o.strip_prefix('@'))
                    .and_then(parse_int)
                    .ok_or_else(|| err("global needs @offset".into()))?;
                TempKind::Global { offset: off as u32 }
            } else {
                TempKind::Local
            };
            if names.contains_key(name) {
                return Err(err(format!("`{name}` declared twice")));
            }
            let t = func.push_temp(TempData {
                kind,
                ty,
                name: Some(name.to_string().into()),
            });
            names.insert(name.to_string(), t);
            continue;
        }
        let (opname, ty) = match head.split_once('.') {
            Some((o, t)) => (
                o,
                Type::from_name(t).ok_or_else(|| err(format!("unknown type `{t}`")))?,
            ),
            None => (head, Type::I64),
        };
        let opc =
            Opc::from_name(opname).ok_or_else(|| err(format!("unknown opcode `{opname}`")))?;
        let d = opc.def();
        let mut parts: Vec<&str> = if rest.trim().is_empty() {
            Vec::new()
        } else {
            rest.split(',').map(str::trim).collect()
        };
        let mut cargs: SmallVec<[u64; 2]> = SmallVec::new();
        let (nout, nin);
        if opc == Opc::Call {
            if parts.is_empty() {
                return Err(err("call needs a helper name".into()));
            }
            let hname = parts.remove(0);
            let h = helpers
                .iter()
                .find(|h| h.name == hname)
                .ok_or_else(|| err(format!("unknown helper `{hname}`")))?;
            let idx = match func.helpers.iter().position(|x| std::ptr::eq(*x, *h)) {
                Some(i) => i,
                None => {
                    func.helpers.push(h);
                    func.helpers.len() - 1
                }
            };
            cargs.push(idx as u64);
            nout = usize::from(h.has_ret);
            nin = h.nargs as usize;
        } else {
            nout = d.nb_oargs as usize;
            nin = d.nb_iargs as usize;
        }
        let ncarg = if opc == Opc::Call { 0 } else { d.cargs.len() };
        if parts.len() != nout + nin + ncarg {
            return Err(err(format!(
                "`{opname}` takes {} arguments, found {}",
                nout + nin + ncarg,
                parts.len()
            )));
        }
        let dummy = Op {
            opc,
            ty,
            oargs: (0..nout).map(|_| Temp(0)).collect(),
            iargs: (0..nin).map(|_| Temp(0)).collect(),
            cargs: SmallVec::new(),
        };
        let (otys, itys) = func.arg_types(&dummy);
        let mut temps: Vec<Temp> = Vec::new();
        // Vector ops print their constant arguments before the temps.
        let (tparts, cparts) = if d.flags.contains(OpFlags::VECTOR) {
            let (c, t) = parts.split_at(ncarg);
            (t, c)
        } else {
            let (t, c) = parts.split_at(nout + nin);
            (t, c)
        };
        for (k, p) in tparts.iter().enumerate() {
            let want = if k < nout { otys[k] } else { itys[k - nout] };
            let t = if let Some(c) = p.strip_prefix('$') {
                let v = parse_int(c).ok_or_else(|| err(format!("bad constant `{p}`")))?;
                func.constant(want, v)
            } else {
                *names
                    .get(*p)
                    .ok_or_else(|| err(format!("undeclared temp `{p}`")))?
            };
            temps.push(t);
        }
        for (p, &k) in cparts.iter().zip(d.cargs.iter()) {
            let bad = || err(format!("bad {k:?} argument `{p}`"));
            let v = match k {
                CArg::Int => parse_int(p).ok_or_else(bad)?,
                CArg::Cond => Cond::from_name(p).ok_or_else(bad)? as u64,
                CArg::MemOp => MemOp::from_name(p).ok_or_else(bad)?.0 as u64,
                CArg::Mmu => p.strip_prefix("mmu").and_then(parse_int).ok_or_else(bad)?,
                CArg::Label => {
                    let n = p
                        .strip_prefix('L')
                        .and_then(|n| n.parse::<u32>().ok())
                        .ok_or_else(bad)?;
                    func.nb_labels = func.nb_labels.max(n + 1);
                    n as u64
                }
                CArg::Helper => return Err(bad()),
                CArg::Barrier => BarrierFlags::parse_text(p).ok_or_else(bad)?.bits() as u64,
                CArg::Rmw => RmwOp::from_name(p).ok_or_else(bad)? as u64,
                CArg::Vec => VecShape::from_name(p).ok_or_else(bad)?.carg(),
                CArg::Env => p.strip_prefix('@').and_then(parse_int).ok_or_else(bad)?,
            };
            cargs.push(v);
        }
        func.ops.push(Op {
            opc,
            ty,
            oargs: SmallVec::from_slice(&temps[..nout]),
            iargs: SmallVec::from_slice(&temps[nout..]),
            cargs,
        });
    }
    Ok(func)
}

/// Label numbers referenced by an op (for passes that rewrite control flow).
pub fn op_label(op: &Op) -> Option<Label> {
    let d = op.opc.def();
    d.cargs
        .iter()
        .position(|&k| k == CArg::Label)
        .and_then(|i| op.cargs.get(i))
        .map(|&l| Label(l as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::HelperFlags;
    use crate::verify::verify;

    static H: Helper = Helper {
        name: "test_helper",
        // Never called: parsing and verifying only need a non-null address.
        addr: 1,
        nargs: 2,
        has_ret: true,
        flags: HelperFlags::empty(),
    };

    const SAMPLE: &str = "\
global x0:i64 @0x40
global nf:i32 @0x48
local t2:i64
local t3:i32
self_loops 0x1
  insn_start 0x40000000
  add.i64 t2, x0, $0x10
  extrl_i64_i32 t3, t2
  mov.i32 nf, t3
  qemu_ld.i64 t2, t2, sl+a, mmu1
  atomic_cmpxchg.i64 t2, x0, t2, $0x5, uq+a+x, mmu0
  mb ldld|stld
  call test_helper, t2, t2, x0
  brcond.i64 t2, $0x0, tstne, L0
  deposit.i64 x0, x0, t2, 8, 0x10
  vadd 16b, @0x100, @0x110, @0x120
  vcmp 2s, gtu, @0x100, @0x100, @0x120
  vshri 8h, @0x100, @0x110, 0xf
  vbitsel 1d, @0x100, @0x110, @0x120, @0x130
  vdup 4s, @0x140, x0
  vcmps 2d, tstne, @0x140, @0x100, t2
  vusadd 8h, @0x100, @0x110, @0x120, t2
  vshuf 8b, @0x100, @0x110, @0x120, 0x1f1e1d1c1b1a1918, 0x7060504
  goto_tb 0
  exit_tb 0
L0:
  exit_tb 0x10
";

    #[test]
    fn print_parse_round_trip() {
        let f = parse(SAMPLE, &[&H]).expect("sample parses");
        verify(&f).expect("sample verifies");
        assert_eq!(f.to_string(), SAMPLE);
        assert_eq!(f.self_loops, 1);
        let g = parse(&f.to_string(), &[&H]).expect("reparse");
        assert_eq!(g.to_string(), SAMPLE);
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = parse("global x0:i64 @0\n  frob.i64 x0\n", &[]).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("  add.i64 y, y, y\n", &[]).unwrap_err();
        assert!(e.message.contains("undeclared"), "{e}");
    }

    #[test]
    fn verifier_rejects_type_mismatch_and_missing_label_and_fallthrough() {
        let f = parse(
            "global x0:i64 @0\nlocal t:i32\n  add.i64 x0, x0, t\n  exit_tb 0\n",
            &[],
        )
        .unwrap();
        assert!(verify(&f).is_err());
        let f = parse("  br L3\n", &[]).unwrap();
        assert!(verify(&f).is_err());
        let f = parse("global x0:i64 @0\n  add.i64 x0, x0, $1\n", &[]).unwrap();
        assert!(verify(&f).unwrap_err().message.contains("fall off"));
    }
}
