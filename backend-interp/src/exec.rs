//! The run loop: one `match` over 16-byte instructions on a frame of `u64` slots, with
//! chained `goto_tb` exits continuing in the next TB inside the same loop.

use crate::compile::{GSlot, Program};
use crate::insn::{Insn, S};
use crate::TbCore;
use softmmu::access::{host_read, host_write, GuestMem};
use softmmu::layout::{ENV_EXIT_REQUEST, ENV_FAULT};
use softmmu::EnvHead;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use tcg_ir::vector;
use tcg_ir::{semantics, ExitCode, MemOp};

/// Whether another thread asked this vCPU to leave generated code.
///
/// # Safety
/// `env` starts with an `EnvHead`.
#[inline(always)]
pub(crate) unsafe fn exit_requested(env: *mut u8) -> bool {
    // SAFETY: caller contract; `exit_request` is an AtomicU32 written by other threads.
    let req = unsafe { AtomicU32::from_ptr(env.add(ENV_EXIT_REQUEST) as *mut u32) };
    req.load(Ordering::Acquire) != 0
}

/// Loads the globals of `list` from env into their slots.
///
/// # Safety
/// `f` has room for every slot of the program; `env` covers the globals' offsets.
#[inline(always)]
unsafe fn load_globals(list: &[u64], env: *mut u8, f: *mut u64) {
    for &g in list {
        let g = GSlot(g);
        // SAFETY: caller contract.
        unsafe {
            let p = env.add(g.off());
            *f.add(g.slot()) = if g.wide() {
                (p as *const u64).read_unaligned()
            } else {
                (p as *const u32).read_unaligned() as u64
            };
        }
    }
}

/// Stores the globals of `list` from their slots to env.
///
/// # Safety
/// As [`load_globals`].
#[inline(always)]
unsafe fn store_globals(list: &[u64], env: *mut u8, f: *mut u64) {
    for &g in list {
        let g = GSlot(g);
        // SAFETY: caller contract.
        unsafe {
            let p = env.add(g.off());
            let v = *f.add(g.slot());
            if g.wide() {
                (p as *mut u64).write_unaligned(v)
            } else {
                (p as *mut u32).write_unaligned(v as u32)
            }
        }
    }
}

/// The 16 bytes at `env + off` as a little-endian value.
///
/// # Safety
/// `env + off .. + 16` must be readable.
unsafe fn read_vec(env: *mut u8, off: u32) -> u128 {
    // SAFETY: the caller guarantees the range.
    u128::from_le_bytes(unsafe { (env.add(off as usize) as *const [u8; 16]).read_unaligned() })
}

/// # Safety
/// `env + off .. + 16` must be writable.
unsafe fn write_vec(env: *mut u8, off: u32, v: u128) {
    // SAFETY: the caller guarantees the range.
    unsafe { (env.add(off as usize) as *mut [u8; 16]).write_unaligned(v.to_le_bytes()) }
}

/// Calls a helper through its ABI for `nargs` arguments.
///
/// # Safety
/// `addr` must be an `extern "C" fn(*mut u8, u64 x nargs) -> u64` and `env` what it expects.
unsafe fn call_helper(addr: usize, nargs: u8, env: *mut u8, a: &[u64; 6]) -> u64 {
    type F0 = extern "C" fn(*mut u8) -> u64;
    type F1 = extern "C" fn(*mut u8, u64) -> u64;
    type F2 = extern "C" fn(*mut u8, u64, u64) -> u64;
    type F3 = extern "C" fn(*mut u8, u64, u64, u64) -> u64;
    type F4 = extern "C" fn(*mut u8, u64, u64, u64, u64) -> u64;
    type F5 = extern "C" fn(*mut u8, u64, u64, u64, u64, u64) -> u64;
    type F6 = extern "C" fn(*mut u8, u64, u64, u64, u64, u64, u64) -> u64;
    // SAFETY: the Helper contract says `addr` has exactly this signature for its arity
    // (checked non-null at compile time); function pointers and usize have the same size.
    unsafe {
        match nargs {
            0 => std::mem::transmute::<usize, F0>(addr)(env),
            1 => std::mem::transmute::<usize, F1>(addr)(env, a[0]),
            2 => std::mem::transmute::<usize, F2>(addr)(env, a[0], a[1]),
            3 => std::mem::transmute::<usize, F3>(addr)(env, a[0], a[1], a[2]),
            4 => std::mem::transmute::<usize, F4>(addr)(env, a[0], a[1], a[2], a[3]),
            5 => std::mem::transmute::<usize, F5>(addr)(env, a[0], a[1], a[2], a[3], a[4]),
            _ => std::mem::transmute::<usize, F6>(addr)(env, a[0], a[1], a[2], a[3], a[4], a[5]),
        }
    }
}

/// Runs `tb` and every TB chained from it until one leaves; returns its exit value
/// (chainable `goto_tb` exits as [`ExitCode::chainable`] if `chainable`, else plain).
///
/// # Safety
/// `env` is a live environment of the layout the IR was built for, used by this thread
/// only; `tb` stays alive for the call, and so does every TB its chain slots point to
/// (they are pinned in `tb`'s generation, which the caller keeps alive).
pub(crate) unsafe fn run<M: GuestMem>(
    mut tb: &TbCore,
    env: *mut u8,
    frame: &mut Vec<u64>,
    chainable: bool,
) -> u64 {
    let envh = env as *mut EnvHead;
    'tb: loop {
        let p: &Program = &tb.prog;
        if frame.len() < p.nslots as usize {
            frame.resize(p.nslots as usize, 0);
        }
        let f = frame.as_mut_ptr();
        // Every slot index in the program is below `nslots` (the compiler allocated them)
        // and the frame has at least that many slots.
        macro_rules! r {
            ($s:expr) => {
                *f.add($s as usize)
            };
        }
        // About every `unsafe` below that touches `f`, `env` or `prog`: the frame covers
        // every slot; env covers every offset the IR names (exec's contract); `ip` is always
        // a valid instruction index (branch targets were resolved to indices below the
        // final `Exit`, which every path reaches before running off the end).
        // SAFETY: as just said.
        unsafe {
            load_globals(p.list(p.gload), env, f);
            let inits = p.list(p.inits);
            for k in (0..inits.len()).step_by(2) {
                let (s, v) = (inits[k] as S, inits[k + 1]);
                r!(s) = v;
            }
        }
        let prog = p.prog.as_ptr();
        let pc_of = |pcx: u16| p.pcs.get(pcx as usize).copied().unwrap_or(0);
        let fault = || {
            // SAFETY: env starts with an EnvHead (exec's contract).
            unsafe { (env.add(ENV_FAULT) as *const u32).read() != 0 }
        };
        let mut ip = 0usize;
        macro_rules! bin {
            ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let ($x, $y) = (r!($a), r!($b));
                r!($d) = $e
            }};
        }
        macro_rules! leave {
            ($code:expr, $sl:expr) => {{
                store_globals(p.store_list($sl), env, f);
                return $code;
            }};
        }
        macro_rules! ld {
            ($size:expr, $d:expr, $a:expr, $mmu:expr, $memop:expr, $pcx:expr, $i32:expr, $off:expr, $sl:expr) => {{
                let addr = r!($a).wrapping_add($off as i64 as u64);
                // The size is a constant per variant so the hit path inlines one access.
                let m = MemOp(($memop.0 & !MemOp::SIZE_MASK) | $size);
                let v = M::load(envh, addr, m, $mmu, pc_of($pcx));
                if fault() {
                    leave!(ExitCode::FAULT, $sl)
                }
                r!($d) = if $i32 { v as u32 as u64 } else { v };
            }};
        }
        macro_rules! st {
            ($size:expr, $v:expr, $a:expr, $mmu:expr, $memop:expr, $pcx:expr, $off:expr, $sl:expr) => {{
                let addr = r!($a).wrapping_add($off as i64 as u64);
                let m = MemOp(($memop.0 & !MemOp::SIZE_MASK) | $size);
                M::store(envh, addr, r!($v), m, $mmu, pc_of($pcx));
                if fault() {
                    leave!(ExitCode::FAULT, $sl)
                }
            }};
        }
        // A `goto_tb` exit through `slot`: follow the chain if it is patched and the next
        // TB may be entered, else leave with the exit value.
        macro_rules! goto {
            ($slot:expr, $sl:expr, $fallthrough:expr) => {{
                let slot = $slot as usize & 1;
                let next = tb.chain[slot].load(Ordering::Acquire);
                let exit = if chainable && !tb.nochain[slot].load(Ordering::Relaxed) {
                    ExitCode::chainable(tb as *const TbCore as usize, slot as u64)
                } else {
                    slot as u64
                };
                if next.is_null() {
                    if $fallthrough {
                        continue;
                    }
                    leave!(exit, $sl)
                }
                if p.self_loops & (1 << slot) != 0 && std::ptr::eq(next, tb) {
                    // A loop that is this TB (compiled with every written global loaded at
                    // entry and stored at every sync point, so the slots are the guest
                    // state): run it again without writing the globals back and reloading
                    // them. The initial slots (constants, locals read before written) are
                    // set again, and the checks of a chained entry stay.
                    if exit_requested(env) {
                        leave!(ExitCode::REQUESTED, $sl)
                    }
                    let limit = tb.limit.load(Ordering::Relaxed);
                    if limit != 0 && tb.runs() >= limit {
                        leave!(exit, $sl)
                    }
                    tb.count();
                    let inits = p.list(p.inits);
                    for k in (0..inits.len()).step_by(2) {
                        r!(inits[k] as S) = inits[k + 1];
                    }
                    ip = 0;
                    continue;
                }
                store_globals(p.store_list($sl), env, f);
                // SAFETY: a chain slot only ever points to a TB pinned in this TB's
                // generation (see `Interp::chain`), alive as long as the caller's TB.
                let n = &*next;
                if exit_requested(env) {
                    return ExitCode::REQUESTED;
                }
                let limit = n.limit.load(Ordering::Relaxed);
                if limit != 0 && n.runs() >= limit {
                    return exit;
                }
                n.count();
                tb = n;
                continue 'tb;
            }};
        }
        // SAFETY: see above.
        unsafe {
            loop {
                let insn = *prog.add(ip);
                ip += 1;
                match insn {
                    Insn::Mov { d, a } => r!(d) = r!(a),
                    Insn::MovI { d, imm } => r!(d) = imm,
                    Insn::Add { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_add(y)),
                    Insn::Sub { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_sub(y)),
                    Insn::Mul { d, a, b } => bin!(d, a, b, |x, y| x.wrapping_mul(y)),
                    Insn::And { d, a, b } => bin!(d, a, b, |x, y| x & y),
                    Insn::Or { d, a, b } => bin!(d, a, b, |x, y| x | y),
                    Insn::Xor { d, a, b } => bin!(d, a, b, |x, y| x ^ y),
                    Insn::Andc { d, a, b } => bin!(d, a, b, |x, y| x & !y),
                    Insn::Shl { d, a, b } => bin!(d, a, b, |x, y| x << (y & 63)),
                    Insn::Shr { d, a, b } => bin!(d, a, b, |x, y| x >> (y & 63)),
                    Insn::Sar { d, a, b } => bin!(d, a, b, |x, y| ((x as i64) >> (y & 63)) as u64),
                    Insn::Add32 { d, a, b } => {
                        bin!(d, a, b, |x, y| x.wrapping_add(y) as u32 as u64)
                    }
                    Insn::Sub32 { d, a, b } => {
                        bin!(d, a, b, |x, y| x.wrapping_sub(y) as u32 as u64)
                    }
                    Insn::Mul32 { d, a, b } => {
                        bin!(d, a, b, |x, y| x.wrapping_mul(y) as u32 as u64)
                    }
                    Insn::AddI { d, a, imm } => r!(d) = r!(a).wrapping_add(imm),
                    Insn::AndI { d, a, imm } => r!(d) = r!(a) & imm,
                    Insn::OrI { d, a, imm } => r!(d) = r!(a) | imm,
                    Insn::XorI { d, a, imm } => r!(d) = r!(a) ^ imm,
                    Insn::AddI32 { d, a, imm } => r!(d) = r!(a).wrapping_add(imm) as u32 as u64,
                    Insn::ShlI { d, a, sh } => r!(d) = r!(a) << (sh & 63),
                    Insn::ShlI32 { d, a, sh } => r!(d) = (r!(a) << (sh & 31)) as u32 as u64,
                    Insn::ShrI { d, a, sh } => r!(d) = r!(a) >> (sh & 63),
                    Insn::SarI { d, a, sh } => r!(d) = ((r!(a) as i64) >> (sh & 63)) as u64,
                    Insn::SarI32 { d, a, sh } => {
                        r!(d) = ((r!(a) as u32 as i32) >> (sh & 31)) as u32 as u64
                    }
                    Insn::Ext32u { d, a } => r!(d) = r!(a) as u32 as u64,
                    Insn::Ext32s { d, a } => r!(d) = r!(a) as u32 as i32 as i64 as u64,
                    Insn::Neg { d, a } => r!(d) = r!(a).wrapping_neg(),
                    Insn::Not { d, a } => r!(d) = !r!(a),
                    Insn::Extract { d, a, pos, len } => {
                        r!(d) = (r!(a) >> (pos & 63)) & (u64::MAX >> ((64 - len as u32) & 63))
                    }
                    Insn::Sextract {
                        d,
                        a,
                        pos,
                        len,
                        i32,
                    } => {
                        let s = (64 - len as u32) & 63;
                        let v = (((r!(a) >> (pos & 63)) << s) as i64 >> s) as u64;
                        r!(d) = if i32 { v as u32 as u64 } else { v };
                    }
                    Insn::Deposit {
                        d,
                        a,
                        b,
                        pos,
                        len,
                        ty,
                    } => bin!(d, a, b, |x, y| semantics::deposit(
                        ty, x, y, pos as u32, len as u32
                    )),
                    Insn::Un { d, a, opc, ty } => {
                        r!(d) = semantics::eval_unary(opc, ty, r!(a)).unwrap_or(0)
                    }
                    Insn::Bin { d, a, b, opc, ty } => {
                        bin!(d, a, b, |x, y| semantics::eval_binary(opc, ty, x, y)
                            .unwrap_or(0))
                    }
                    Insn::Mul2 {
                        lo,
                        hi,
                        a,
                        b,
                        signed,
                        ty,
                    } => {
                        let (l, h) = semantics::mul2(ty, r!(a), r!(b), signed);
                        r!(lo) = l;
                        r!(hi) = h;
                    }
                    Insn::Setcond { d, a, b, cc } => r!(d) = cc.eval(r!(a), r!(b)) as u64,
                    Insn::SetcondI { d, a, cc, imm } => r!(d) = cc.eval(r!(a), imm) as u64,
                    Insn::Movcond {
                        d,
                        c1,
                        c2,
                        v1,
                        v2,
                        cc,
                    } => {
                        r!(d) = if cc.eval(r!(c1), r!(c2)) {
                            r!(v1)
                        } else {
                            r!(v2)
                        }
                    }
                    Insn::SubFlags { d, a, b, f: fl } => {
                        let (x, y) = (r!(a), r!(b));
                        let res = x.wrapping_sub(y);
                        r!(d) = res;
                        r!(fl) = res;
                        r!(fl + 1) = res;
                        r!(fl + 2) = (x >= y) as u64;
                        r!(fl + 3) = (x ^ y) & (x ^ res);
                    }
                    Insn::SubFlagsI { d, a, f: fl, imm } => {
                        let (x, y) = (r!(a), imm);
                        let res = x.wrapping_sub(y);
                        r!(d) = res;
                        r!(fl) = res;
                        r!(fl + 1) = res;
                        r!(fl + 2) = (x >= y) as u64;
                        r!(fl + 3) = (x ^ y) & (x ^ res);
                    }
                    Insn::AddFlags { d, c, a, b, f: fl } => {
                        let (x, y) = (r!(a), r!(b));
                        let res = x.wrapping_add(y);
                        let carry = (res < x) as u64;
                        r!(d) = res;
                        r!(c) = carry;
                        r!(fl) = res;
                        r!(fl + 1) = res;
                        r!(fl + 2) = carry;
                        r!(fl + 3) = (res ^ x) & !(x ^ y);
                    }
                    Insn::AddFlags32 {
                        d,
                        a,
                        b,
                        f: fl,
                        cin,
                    } => {
                        let c = cin as u32;
                        // Branch-free operand forms (see the variant's doc).
                        let x = r!(a) & (u64::MAX >> (32 * (c >> 1 & 1)));
                        let y = (r!(b) & (u64::MAX >> (32 * (c >> 2 & 1))))
                            ^ (0xffff_ffff * (c >> 3 & 1) as u64);
                        let s = x.wrapping_add(y).wrapping_add((c & 1) as u64);
                        let res = s as u32 as u64;
                        r!(d) = res;
                        r!(fl) = res as u32 as i32 as i64 as u64;
                        r!(fl + 1) = res;
                        r!(fl + 2) = (s >> 32) & 1;
                        r!(fl + 3) = ((res ^ x) & !(x ^ y)) << 32;
                    }
                    Insn::AddFlags32I {
                        d,
                        a,
                        f: fl,
                        cin,
                        imm,
                    } => {
                        let c = cin as u32;
                        let x = r!(a) & (u64::MAX >> (32 * (c >> 1 & 1)));
                        let y = imm as u64;
                        let s = x.wrapping_add(y).wrapping_add((c & 1) as u64);
                        let res = s as u32 as u64;
                        r!(d) = res;
                        r!(fl) = res as u32 as i32 as i64 as u64;
                        r!(fl + 1) = res;
                        r!(fl + 2) = (s >> 32) & 1;
                        r!(fl + 3) = ((res ^ x) & !(x ^ y)) << 32;
                    }
                    Insn::LogicFlags { a, f: fl, i32 } => {
                        let v = r!(a);
                        r!(fl) = if i32 {
                            v as u32 as i32 as i64 as u64
                        } else {
                            v
                        };
                        r!(fl + 1) = if i32 { v as u32 as u64 } else { v };
                        r!(fl + 2) = 0;
                        r!(fl + 3) = 0;
                    }
                    Insn::TestGt { d, f: fl } => {
                        let z = (r!(fl + 1) != 0) as u64;
                        let s = (((r!(fl) ^ r!(fl + 3)) as i64) >> 63) as u64;
                        r!(d) = z & !s;
                    }
                    Insn::Brcond { a, b, cc, target } => {
                        if cc.eval(r!(a), r!(b)) {
                            ip = target as usize
                        }
                    }
                    Insn::BrcondI { a, cc, target, imm } => {
                        if cc.eval(r!(a), imm) {
                            ip = target as usize
                        }
                    }
                    Insn::BrZ { a, target } => {
                        if r!(a) == 0 {
                            ip = target as usize
                        }
                    }
                    Insn::BrNz { a, target } => {
                        if r!(a) != 0 {
                            ip = target as usize
                        }
                    }
                    Insn::Br { target } => ip = target as usize,
                    Insn::LdEnv { d, memop, i32, off } => {
                        let raw = host_read(env.add(off as usize), memop.bytes());
                        let v = memop.extend(raw);
                        r!(d) = if i32 { v as u32 as u64 } else { v };
                    }
                    Insn::StEnv { a, memop, off } => {
                        host_write(env.add(off as usize), memop.bytes(), r!(a))
                    }
                    Insn::LdGlobal { d, wide, off } => {
                        let p = env.add(off as usize);
                        r!(d) = if wide {
                            (p as *const u64).read_unaligned()
                        } else {
                            (p as *const u32).read_unaligned() as u64
                        };
                    }
                    Insn::StGlobal { a, wide, off } => {
                        let p = env.add(off as usize);
                        if wide {
                            (p as *mut u64).write_unaligned(r!(a))
                        } else {
                            (p as *mut u32).write_unaligned(r!(a) as u32)
                        }
                    }
                    Insn::Ld1 {
                        d,
                        a,
                        mmu,
                        memop,
                        pcx,
                        i32,
                        off,
                        sl,
                    } => ld!(0, d, a, mmu, memop, pcx, i32, off, sl),
                    Insn::Ld2 {
                        d,
                        a,
                        mmu,
                        memop,
                        pcx,
                        i32,
                        off,
                        sl,
                    } => ld!(1, d, a, mmu, memop, pcx, i32, off, sl),
                    Insn::Ld4 {
                        d,
                        a,
                        mmu,
                        memop,
                        pcx,
                        i32,
                        off,
                        sl,
                    } => ld!(2, d, a, mmu, memop, pcx, i32, off, sl),
                    Insn::Ld8 {
                        d,
                        a,
                        mmu,
                        memop,
                        pcx,
                        i32,
                        off,
                        sl,
                    } => ld!(3, d, a, mmu, memop, pcx, i32, off, sl),
                    Insn::St1 {
                        v,
                        a,
                        mmu,
                        memop,
                        pcx,
                        off,
                        sl,
                    } => st!(0, v, a, mmu, memop, pcx, off, sl),
                    Insn::St2 {
                        v,
                        a,
                        mmu,
                        memop,
                        pcx,
                        off,
                        sl,
                    } => st!(1, v, a, mmu, memop, pcx, off, sl),
                    Insn::St4 {
                        v,
                        a,
                        mmu,
                        memop,
                        pcx,
                        off,
                        sl,
                    } => st!(2, v, a, mmu, memop, pcx, off, sl),
                    Insn::St8 {
                        v,
                        a,
                        mmu,
                        memop,
                        pcx,
                        off,
                        sl,
                    } => st!(3, v, a, mmu, memop, pcx, off, sl),
                    Insn::Atomic { idx } => {
                        let Some(ai) = p.atomics.get(idx as usize) else {
                            continue;
                        };
                        let addr = r!(ai.addr);
                        let pc = pc_of(ai.pcx);
                        let old = match ai.rmw {
                            None => {
                                M::cmpxchg(envh, addr, r!(ai.v), r!(ai.new), ai.memop, ai.mmu, pc)
                            }
                            Some(op) => M::rmw(envh, op, addr, r!(ai.v), ai.memop, ai.mmu, pc),
                        };
                        if fault() {
                            leave!(ExitCode::FAULT, ai.sl)
                        }
                        r!(ai.d) = if ai.i32 { old as u32 as u64 } else { old };
                    }
                    Insn::Mb { full } => fence(if full {
                        Ordering::SeqCst
                    } else {
                        Ordering::AcqRel
                    }),
                    Insn::Call { idx } => {
                        let Some(ci) = p.calls.get(idx as usize) else {
                            continue;
                        };
                        let mut args = [0u64; 6];
                        for (x, &s) in args.iter_mut().zip(ci.args.iter()).take(ci.nargs as usize) {
                            *x = r!(s);
                        }
                        if ci.sync_before {
                            store_globals(p.store_list(ci.sl), env, f);
                        }
                        // SAFETY: the helper was registered with this arity and a non-null
                        // address; it receives this vCPU's env as its contract requires.
                        let res = call_helper(ci.addr, ci.nargs, env, &args);
                        if ci.reload_after {
                            load_globals(p.list(p.gall), env, f);
                        }
                        if let Some(d) = ci.ret {
                            r!(d) = if ci.ret_i32 { res as u32 as u64 } else { res };
                        }
                    }
                    Insn::Vec { idx } => {
                        let Some(v) = p.vecs.get(idx as usize) else {
                            continue;
                        };
                        let mut srcs = [0u128; 3];
                        for (s, &o) in srcs
                            .iter_mut()
                            .zip(v.offs[1..].iter())
                            .take(v.nsrc as usize)
                        {
                            *s = read_vec(env, o);
                        }
                        if let Some(m) = v.mask {
                            write_vec(
                                env,
                                v.offs[0],
                                vector::shuffle(v.shape, srcs[0], srcs[1], m),
                            );
                            continue;
                        }
                        if let Some(o) = v.out {
                            let (res, sat) = vector::eval_sat(v.opc, v.shape, srcs[0], srcs[1])
                                .unwrap_or((0, false));
                            write_vec(env, v.offs[0], res);
                            r!(o) = sat as u64;
                            continue;
                        }
                        let x = v.scalar.map_or(0, |s| r!(s));
                        let res = vector::eval(
                            v.opc,
                            v.shape,
                            v.cond,
                            v.imm,
                            &srcs[..v.nsrc as usize],
                            x,
                        )
                        .unwrap_or(0);
                        write_vec(env, v.offs[0], res);
                    }
                    Insn::BrGoto {
                        a,
                        kind,
                        slots,
                        pc,
                        sl,
                        t,
                        f: fa,
                    } => {
                        let x = r!(a);
                        let taken = match kind {
                            0 => x == 0,
                            1 => x != 0,
                            2 => (x as i64) < 0,
                            _ => (x as i64) >= 0,
                        };
                        let (slot, k) = if taken { (slots >> 1, t) } else { (slots, fa) };
                        r!(pc) = pc_of(k);
                        goto!(slot, sl, false)
                    }
                    Insn::LookupGoto { pc, mmu, sl, flags } => {
                        let pc = r!(pc);
                        // A short shared borrow of this vCPU's own env (exec's contract).
                        let head = &*envh;
                        let e = head.jmp[softmmu::jmp::jmp_index(pc)];
                        let te = *head.tlb_entry(mmu as usize, pc);
                        let found = e.pc == pc
                            && e.aux == tb.gen_id as u64
                            && te.addr_code == pc & softmmu::layout::PAGE_MASK
                            && softmmu::jmp::key(pc.wrapping_add(te.addend), flags) == Some(e.key);
                        if !found {
                            continue;
                        }
                        // SAFETY: an entry naming this generation holds a core pinned in it
                        // (`Interp::direct_entry`), alive as long as the running TB's.
                        let n = &*(e.code as *const TbCore);
                        if n.dead.load(Ordering::Acquire) {
                            continue;
                        }
                        store_globals(p.store_list(sl), env, f);
                        if exit_requested(env) {
                            return ExitCode::REQUESTED;
                        }
                        let limit = n.limit.load(Ordering::Relaxed);
                        if limit != 0 && n.runs() >= limit {
                            return ExitCode::LOOKUP;
                        }
                        n.count();
                        tb = n;
                        continue 'tb;
                    }
                    Insn::GotoTb { slot, sl } => goto!(slot, sl, true),
                    Insn::GotoExit { slot, sl, pc, imm } => {
                        if pc != S::MAX {
                            r!(pc) = imm;
                        }
                        goto!(slot, sl, false)
                    }
                    Insn::Exit {
                        chainable: c,
                        sl,
                        code,
                    } => {
                        if c && chainable {
                            leave!(ExitCode::chainable(tb as *const TbCore as usize, code), sl)
                        }
                        leave!(code, sl)
                    }
                }
            }
        }
    }
}
