//! Structural checks of a `Func`: argument counts and types, labels, constants, helpers.

use crate::backend::Helper;
use crate::func::{Func, TempKind};
use crate::opcodes::{CArg, OpFlags, Opc};
use crate::types::{BarrierFlags, Cond, MemOp, RmwOp};
use crate::vector::{VecShape, VEC_BYTES};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub op_index: Option<usize>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op_index {
            Some(i) => write!(f, "op {i}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Whether back ends verify every function they compile: always in debug builds (all tests),
/// in release builds only with `TCG_VERIFY=1`. The IR comes from our own translator, not
/// from the guest, and the back ends still check what memory safety needs (temp indices,
/// labels) as they go; full verification costs about as much as decoding.
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        cfg!(debug_assertions) || std::env::var_os("TCG_VERIFY").is_some_and(|v| v != "0")
    })
}

/// Checks that `func` is well formed; back ends may assume it after this passes.
pub fn verify(func: &Func) -> Result<(), VerifyError> {
    let err = |i: Option<usize>, m: String| VerifyError {
        op_index: i,
        message: m,
    };
    let nt = func.temps.len();
    for (i, t) in func.temps.iter().enumerate() {
        if let TempKind::Const(v) = t.kind {
            if v & !t.ty.mask() != 0 {
                return Err(err(
                    None,
                    format!("constant temp {i} has bits outside its type"),
                ));
            }
        }
    }
    let mut defined = vec![false; func.nb_labels as usize];
    for op in &func.ops {
        if op.opc == Opc::SetLabel {
            if let Some(l) = op.cargs.first().and_then(|&l| defined.get_mut(l as usize)) {
                if *l {
                    return Err(err(None, format!("label L{} set twice", op.cargs[0])));
                }
                *l = true;
            }
        }
    }
    for (i, op) in func.ops.iter().enumerate() {
        let e = |m: String| err(Some(i), format!("{}: {m}", op.opc.name()));
        let d = op.opc.def();
        if let Some(&t) = op
            .oargs
            .iter()
            .chain(op.iargs.iter())
            .find(|t| t.index() >= nt)
        {
            return Err(e(format!("temp {} out of range", t.0)));
        }
        if d.cargs.len() != op.cargs.len() {
            return Err(e(format!(
                "expected {} constant args, got {}",
                d.cargs.len(),
                op.cargs.len()
            )));
        }
        if op.opc == Opc::Call {
            let h = usize::try_from(op.cargs[0])
                .ok()
                .and_then(|h| func.helpers.get(h))
                .ok_or_else(|| e("helper index out of range".into()))?;
            if h.addr == 0 || h.nargs > Helper::MAX_ARGS {
                return Err(e(format!(
                    "helper {} has no address or too many arguments",
                    h.name
                )));
            }
            if op.iargs.len() != h.nargs as usize || op.oargs.len() != usize::from(h.has_ret) {
                return Err(e(format!("wrong argument count for helper {}", h.name)));
            }
        } else if op.oargs.len() != d.nb_oargs as usize || op.iargs.len() != d.nb_iargs as usize {
            return Err(e("wrong number of temp arguments".into()));
        }
        let (outs, ins) = func.arg_types(op);
        for (&t, &ty) in op.oargs.iter().zip(outs.iter()) {
            if func.ty(t) != ty {
                return Err(e(format!(
                    "output {} has type {}, expected {ty}",
                    func.temp_name(t),
                    func.ty(t)
                )));
            }
            if !matches!(func.temp(t).kind, TempKind::Global { .. } | TempKind::Local) {
                return Err(e("writes a constant".into()));
            }
        }
        for (&t, &ty) in op.iargs.iter().zip(ins.iter()) {
            if func.ty(t) != ty {
                return Err(e(format!(
                    "input {} has type {}, expected {ty}",
                    func.temp_name(t),
                    func.ty(t)
                )));
            }
        }
        for (&c, kind) in op.cargs.iter().zip(d.cargs.iter()) {
            let ok = match kind {
                CArg::Int | CArg::Mmu => true,
                CArg::Cond => Cond::from_u64(c).is_some(),
                CArg::MemOp => c < 32,
                CArg::Label => (c as usize) < defined.len() && defined[c as usize],
                CArg::Helper => true,
                CArg::Barrier => BarrierFlags::from_bits(c as u8).is_some() && c < 16,
                CArg::Rmw => RmwOp::from_u64(c).is_some(),
                CArg::Vec => VecShape::from_carg(c).is_some(),
                CArg::Env => c.saturating_add(VEC_BYTES as u64) <= u32::MAX as u64,
            };
            if !ok {
                return Err(e(format!("bad constant argument {c} ({kind:?})")));
            }
        }
        match op.opc {
            Opc::Deposit | Opc::Extract | Opc::Sextract => {
                let (pos, len) = (op.cargs[0], op.cargs[1]);
                if len == 0 || pos.saturating_add(len) > op.ty.bits() as u64 {
                    return Err(e(format!(
                        "bit field pos {pos} len {len} outside {}",
                        op.ty
                    )));
                }
            }
            Opc::LdEnv | Opc::StEnv => {
                let m = MemOp(op.cargs[1] as u8);
                if m.bytes() * 8 > op.ty.bits() || op.cargs[0] > u32::MAX as u64 {
                    return Err(e(
                        "env access wider than its type or offset too large".into()
                    ));
                }
            }
            Opc::QemuLd | Opc::QemuSt | Opc::AtomicCmpxchg | Opc::AtomicRmw
                if MemOp(op.cargs[0] as u8).bytes() * 8 > op.ty.bits() =>
            {
                return Err(e("memory access wider than its type".into()));
            }
            _ => {}
        }
    }
    match func.ops.last() {
        Some(op) if op.opc.flags().contains(OpFlags::BB_END) && op.opc != Opc::Brcond => Ok(()),
        _ => Err(err(
            None,
            "the function can fall off its end (last op must be exit_tb or br)".into(),
        )),
    }
}
