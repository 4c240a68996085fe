//! The quick code generator: x86-64 machine code straight from the IR, op by op, for
//! code that runs too few times to repay Cranelift (the cold tier of the tiered back end).
//!
//! It compiles in a few microseconds where Cranelift needs 100 or more, and its code is
//! several times faster than the interpreter, though slower than Cranelift's:
//!
//! * Globals live in env at their offsets (so nothing is written back at exits, around
//!   helper calls or on faults), constants are immediates, locals have frame slots above
//!   `rsp`. Each op loads its inputs into scratch registers, computes, and stores its
//!   output. I32 values are kept zero-extended, as 32-bit x86 ops leave them.
//! * A register cache: `r8`-`r15` hold temps that are read again, and an op's result
//!   stays in `rax` for the next op. A cached global is a copy (env stays current); a
//!   local may live only in its register (`dirty`) and is written to its slot only when
//!   the register is needed for another value, or before a branch, a label or a call
//!   (in TBs with no back edge; others store every local). A local no later op reads is
//!   never stored. The memory slow paths save `r8`-`r11` around their call; the frame
//!   saves the caller's `r12`-`r15` (callee-saved, so calls keep them).
//! * A pair of accesses as LDP/STP translate (`add B, A, $size` and two loads or stores,
//!   [`pair_at`]) takes one TLB probe covering both elements.
//! * Memory fast paths (the inline TLB probe) are inline; their slow paths (the call into
//!   softmmu) are placed after the TB's code, so the code that runs is dense.
//! * `goto_tb` is a direct `jmp rel32` that chaining patches (`lib.rs`, `patch_site`).
//!   TBs that do not count runs and whose slots fit [`SHARED_FRAME`] all have that frame:
//!   their `goto_tb` has a second, inner `jmp rel32` before the epilogue, patched when
//!   the target has the shared frame too, to its inner entry (the exit-request check and
//!   the body), so a chain between them neither tears down nor rebuilds the frame.
//! * `rbx` holds env for the whole TB; `rdi` carries it into the TB and across chains.
//! * The calling convention is the one Cranelift's TBs use (`tail`: env in `rdi`, exit
//!   value in `rax`, `rbp` preserved), so the trampoline, chain cells, `lookup_goto`
//!   targets and the exit protocol are those of `lib.rs`.
//! * Guest memory, atomics, vector ops and the rare arithmetic ops call small `extern "C"`
//!   functions below (the TLB hit path of `softmmu::access` inlined into them); faults are
//!   seen in env's fault word after the call.
//! * With `counted`, a TB counts its runs in its chain cell and a chained entry at or past
//!   the cell's run limit leaves with `LOOKUP` (the tiered back end promotes by this).

// `dynasm!` converts dynamic register numbers with `.into()`, even from the right type.
#![allow(clippy::useless_conversion)]

use crate::arena::{CELL_LIMIT, CELL_RUNS};

const _: () = assert!(CELL_LIMIT == CELL_RUNS + 8);
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use softmmu::layout::{
    ENV_EXIT_REQUEST, ENV_FAULT, ENV_JMP_TABLE, ENV_TLB, NB_MMU_MODES, PAGE_BITS, PAGE_MASK,
    TLBE_ADDEND, TLBE_ADDR_CODE, TLBE_ADDR_READ, TLBE_ADDR_WRITE, TLBE_SIZE_LOG2, TLBF_MASK,
    TLBF_SIZE_LOG2, TLBF_TABLE,
};
use softmmu::EnvHead;
use tcg_ir::vector::{self, VecShape};
use tcg_ir::{
    semantics, BackendError, BarrierFlags, Cond, ExitCode, Func, MemOp, Op, OpFlags, Opc, RmwOp,
    Temp, TempKind, Type,
};

mod vec;

type Asm = VecAssembler<X64Relocation>;

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RBX: u8 = 3;
const RSP: u8 = 4;
const RSI: u8 = 6;
const RDI: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
/// Registers of the cache: `r8`-`r11` (caller-saved, used by no op's code except as call
/// arguments right before a call: the slow paths save them) and `r12`-`r15` (callee-saved:
/// the frame saves the caller's, and the calls out of the TB keep them).
const CACHE_REGS: [u8; NCACHE] = [8, 9, 10, 11, 12, 13, 14, 15];
const NCACHE: usize = 8;

/// x86 condition codes (the low nibble of `jcc`/`setcc`/`cmovcc`).
#[derive(Clone, Copy)]
enum Cc {
    B = 0x2,
    Ae = 0x3,
    E = 0x4,
    Ne = 0x5,
    Be = 0x6,
    A = 0x7,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

/// Generated code of one TB.
pub(crate) struct QuickCode {
    pub code: Vec<u8>,
    /// Offset of the entry the execution loop uses (the chained entry is at 0).
    pub loop_entry: usize,
    /// Offsets of the `rel32` of the `goto_tb` jumps (slot 0 and 1) chaining patches.
    pub sites: [Option<usize>; 2],
    /// Offset of the inner entry of a TB with the shared frame (see [`SHARED_FRAME`]).
    pub inner: Option<usize>,
    /// Per slot: its site has an inner site [`INNER_SITE_DISTANCE`] bytes before it.
    pub inner_sites: [bool; 2],
}

/// Frame of the quick TBs whose slots fit in it (all but huge TBs; a 256-byte one left
/// out long kernel loops): one size, so that a
/// chained jump from one such TB to another can keep the frame (the inner entry and
/// inner sites) instead of tearing it down and building it again.
const SHARED_FRAME: i32 = 1024;
/// Offset of a shared-frame TB's inner entry (after `push rbx; push r12`..`r15; mov rbx,
/// rdi; sub rsp, imm32`): `lookup_goto` in another such TB jumps there, the cell flag
/// `CELL_SHARED` telling it the target is one.
pub(crate) const INNER_ENTRY: usize = 19;
/// How far before a `goto_tb`'s site its inner site is (a shared-frame TB's `jmp rel32`
/// taken before the epilogue, which chaining patches to a shared-frame target's inner
/// entry).
pub(crate) const INNER_SITE_DISTANCE: usize = 24;

/// A guest memory access's slow path, emitted after the TB's code: the call into softmmu
/// with the cache registers saved, then back to `done` (or out through `fault`).
struct SlowPath {
    entry: DynamicLabel,
    done: DynamicLabel,
    /// MemOp and MMU index, as `qk_ld`/`qk_st` take them.
    oi: u64,
    pc: u64,
    /// The value a store writes (`None`: a load, whose result is left in `rax`).
    value: Option<Temp>,
    /// A pair of accesses (see [`pair_at`]): a load leaves the second element in `rcx`,
    /// a store writes this second value.
    pair: Option<Option<Temp>>,
    /// The cache as the access saw it (the value may be in a cache register).
    cache: [Option<Temp>; NCACHE],
    sp_adj: i32,
    /// Where a single load's fast path leaves its result (`rax` or a cache register).
    dest: u8,
}

/// Where a temp lives.
#[derive(Clone, Copy)]
enum Loc {
    Imm(u64),
    /// `[rsp + disp]` (plus what the op pushed meanwhile), 8 bytes.
    Slot(i32),
    /// `[rbx + disp]`; `true`: a 4-byte (I32) global.
    Env(i32, bool),
}

/// x86 opcodes with a `reg, r/m` operand pair, for [`Gen::rm`] (dynasm encodes runtime
/// displacements with 32 bits; most of ours fit in 8).
mod opc {
    /// `mov r/m, reg`
    pub const MOV_STORE: u8 = 0x89;
    /// `mov reg, r/m`
    pub const MOV_LOAD: u8 = 0x8b;
    /// `add reg, r/m`
    pub const ADD: u8 = 0x03;
    /// `and reg, r/m`
    pub const AND: u8 = 0x23;
    /// `cmp reg, r/m`
    pub const CMP: u8 = 0x3b;
    /// `lea reg, m`
    pub const LEA: u8 = 0x8d;
}

/// The cache slot of register `r`, if it is one of [`CACHE_REGS`].
fn cache_index(r: u8) -> Option<usize> {
    CACHE_REGS.iter().position(|&c| c == r)
}

fn bad(m: impl Into<String>) -> BackendError {
    BackendError::Invalid(m.into())
}

fn fits_i32(v: u64) -> bool {
    v as i64 == v as i64 as i32 as i64
}

struct Gen<'a> {
    f: &'a Func,
    a: Asm,
    locs: Vec<Option<Loc>>,
    labels: Vec<DynamicLabel>,
    cell: usize,
    pc: u64,
    goto_seen: [bool; 2],
    sites: [Option<usize>; 2],
    ret: DynamicLabel,
    fault: DynamicLabel,
    requested: DynamicLabel,
    /// The temps whose value `rax` holds between two ops: the previous op ended by
    /// storing one from `rax` (and, for a `mov` that read the other from `rax`, both).
    rax_val: [Option<Temp>; 2],
    /// Within an op, while it has emitted nothing but input loads: (code offset, the temps
    /// in `rax`), so loads of them come from `rax`.
    clean: Option<(usize, [Option<Temp>; 2])>,
    /// A `mov` whose source came from `rax`: that source (still in `rax` after it).
    mov_src: Option<Temp>,
    /// The last store from `rax` in this op: (code offset after it, temp).
    last_store: Option<(usize, Temp)>,
    /// This op left `rax` alone and only redefined this temp: what `rax` held before
    /// the op (but that temp) it still holds after.
    rax_kept: Option<Temp>,
    /// Memory slow paths, placed after the code so the fast paths stay dense.
    slow: Vec<SlowPath>,
    /// Vector op descriptors, placed after the code.
    data: Vec<(DynamicLabel, [u8; VEC_DESC_BYTES])>,
    /// The temp each of [`CACHE_REGS`] holds a copy of, and when it was last used.
    cache: [Option<Temp>; NCACHE],
    /// Per cache register: it holds the only current value of a local (its slot was not
    /// written), so it must be spilled before it is overwritten or control flow merges.
    dirty: [bool; NCACHE],
    /// Locals may live only in the cache (no back edges in the TB: a read the op order
    /// has passed is never executed again, so `uses` says exactly what is still needed).
    lazy: bool,
    /// The current op's inputs until it stores an output (`uses` no longer counts their
    /// reads by this op): they may not be dropped unspilled while the op loads them.
    pinned: [Option<Temp>; 4],
    /// Per temp: how many reads of it the ops after the current one make (only temps
    /// read again are worth caching).
    uses: Vec<u32>,
    stamp: [u32; NCACHE],
    clock: u32,
    /// Inside code that runs on one path only (the memory fast and slow paths): the cache
    /// may be read but not changed, so both paths end with the same cache.
    frozen: bool,
    /// Bytes of local slots below the saved rbx.
    frame: i32,
    /// The frame is [`SHARED_FRAME`] (inner entry and inner sites).
    shared: bool,
    /// Per `goto_tb` slot: an inner site precedes its site.
    inner_sites: [bool; 2],
    /// Bytes pushed since the op began (slot addresses are rsp-relative).
    sp_adj: i32,
}

/// Whether a branch of `func` goes back to a label set before it.
/// What one thread's compilations reuse: the assembler (its label and relocation tables)
/// and the per-TB tables, so compiling a TB allocates little more than its code.
#[derive(Default)]
struct Scratch {
    asm: Option<Asm>,
    locs: Vec<Option<Loc>>,
    uses: Vec<u32>,
    labels: Vec<DynamicLabel>,
    slow: Vec<SlowPath>,
    data: Vec<(DynamicLabel, [u8; VEC_DESC_BYTES])>,
    seen: Vec<bool>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

fn has_back_edge(func: &Func, set: &mut Vec<bool>) -> bool {
    set.clear();
    set.resize(func.nb_labels as usize, false);
    for op in &func.ops {
        match op.opc {
            Opc::SetLabel | Opc::Br | Opc::Brcond => {
                let k = if op.opc == Opc::Brcond { 1 } else { 0 };
                let Some(&l) = op.cargs.get(k) else {
                    return true;
                };
                let Some(seen) = set.get_mut(l as usize) else {
                    return true;
                };
                if op.opc == Opc::SetLabel {
                    *seen = true;
                } else if *seen {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Compiles `func` for the chain cell at `cell` (writable-view address).
pub(crate) fn compile(func: &Func, cell: usize, counted: bool) -> Result<QuickCode, BackendError> {
    let mut scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    let r = compile_with(func, cell, counted, &mut scratch);
    SCRATCH.with(|s| *s.borrow_mut() = scratch);
    r
}

fn compile_with(
    func: &Func,
    cell: usize,
    counted: bool,
    scratch: &mut Scratch,
) -> Result<QuickCode, BackendError> {
    let mut locs = std::mem::take(&mut scratch.locs);
    locs.clear();
    locs.reserve(func.temps.len());
    let mut nslots = 0i32;
    for t in &func.temps {
        locs.push(Some(match t.kind {
            TempKind::Const(v) => Loc::Imm(v),
            TempKind::Global { offset } => {
                let d = i32::try_from(offset).map_err(|_| bad("global offset too large"))?;
                Loc::Env(d, t.ty == Type::I32)
            }
            TempKind::Local => {
                nslots += 1;
                Loc::Slot(8 * (nslots - 1))
            }
        }));
    }
    // No frame pointer: entry pushes rbx (rsp becomes 16-aligned, as calls need) and
    // reserves the slots in whole 16 bytes; the shared size when they fit (not for
    // counting TBs, whose chained entry must count).
    let shared = !counted && 8 * nslots <= SHARED_FRAME;
    let frame = if shared {
        SHARED_FRAME
    } else {
        (8 * nslots + 15) & !15
    };
    // Sized so that assembling never regrows them: memory ops add two labels and a few
    // references each, branches and exits one reference.
    let n = func.ops.len();
    let mut uses = std::mem::take(&mut scratch.uses);
    uses.clear();
    uses.resize(func.temps.len(), 0);
    for op in &func.ops {
        for t in &op.iargs {
            if let Some(u) = uses.get_mut(t.index()) {
                *u += 1;
            }
        }
    }
    // A reused assembler was left empty by `take` (labels cleared, relocations resolved);
    // one that failed mid-TB is dropped with its state (see below).
    let mut a = match scratch.asm.take() {
        Some(mut a) => {
            a.reserve_ops(64 * n + 128);
            a
        }
        None => Asm::new_with_capacity(
            0,
            64 * n + 128,
            0,
            0,
            func.nb_labels as usize + 2 * n + 8,
            0,
            3 * n + 16,
        ),
    };
    let mut labels = std::mem::take(&mut scratch.labels);
    labels.clear();
    labels.extend((0..func.nb_labels).map(|_| a.new_dynamic_label()));
    let lazy = !has_back_edge(func, &mut scratch.seen);
    let mut slow = std::mem::take(&mut scratch.slow);
    slow.clear();
    let mut data = std::mem::take(&mut scratch.data);
    data.clear();
    let ret = a.new_dynamic_label();
    let fault = a.new_dynamic_label();
    let requested = a.new_dynamic_label();
    let limit = a.new_dynamic_label();
    let body = a.new_dynamic_label();
    let mut g = Gen {
        f: func,
        a,
        locs,
        labels,
        cell,
        pc: 0,
        goto_seen: [false; 2],
        sites: [None; 2],
        ret,
        fault,
        requested,
        rax_val: [None; 2],
        rax_kept: None,
        clean: None,
        mov_src: None,
        last_store: None,
        data,
        slow,
        cache: [None; NCACHE],
        dirty: [false; NCACHE],
        lazy,
        pinned: [None; 4],
        uses,
        stamp: [0; NCACHE],
        clock: 0,
        frozen: false,
        frame,
        shared,
        inner_sites: [false; 2],
        sp_adj: 0,
    };
    let runs = (cell + CELL_RUNS) as i64;

    if shared {
        // Chained entry (offset 0: what the jump cache and other TBs' outer sites point
        // to) building the frame, then the inner entry (from another shared-frame TB's
        // inner site: frame kept) falling through into the body: no taken jump between
        // chained TBs but the chain's own. The execution loop's entry goes at the end.
        g.frame_setup();
        let inner = g.a.offset().0;
        if inner != INNER_ENTRY {
            return Err(bad("shared-frame setup of an unexpected size"));
        }
        let check = g.a.new_dynamic_label();
        dynasm!(g.a ; .arch x64 ; =>check);
        g.exit_check();
        dynasm!(g.a ; .arch x64 ; =>body);
        return finish(
            g,
            func,
            Some(inner),
            LoopEntry::AtEnd(check),
            limit,
            scratch,
        );
    }
    // Chained entry (offset 0): what chain cells and the jump cache point to.
    g.prologue();
    if counted {
        dynasm!(g.a
            ; .arch x64
            ; mov rax, QWORD runs
            ; mov rcx, [rax]
            ; cmp rcx, [rax + 8]
            ; jae =>limit
            ; inc rcx
            ; mov [rax], rcx
        );
    }
    dynasm!(g.a ; .arch x64 ; jmp =>body);
    // Entry from the execution loop: no run limit.
    let loop_entry = g.a.offset().0;
    g.prologue();
    if counted {
        dynasm!(g.a
            ; .arch x64
            ; mov rax, QWORD runs
            ; inc QWORD [rax]
        );
    }
    dynasm!(g.a ; .arch x64 ; =>body);
    finish(g, func, None, LoopEntry::At(loop_entry), limit, scratch)
}

/// Where the execution loop's entry of a TB is.
enum LoopEntry {
    /// At this offset, already emitted.
    At(usize),
    /// To be emitted after the body: the frame built, then a jump to the label.
    AtEnd(DynamicLabel),
}

/// The second access of a pair starting at op `i`: two loads (or two stores) of the
/// same size (4 or 8 bytes), MMU index and type where the second address is the first
/// plus the size, computed by the op right before (`add B, A, $size`; LDP/STP and their
/// SIMD forms translate to this), and the first load does not overwrite the second
/// address. One TLB probe covers both.
pub(crate) fn pair_at(f: &Func, i: usize) -> Option<&Op> {
    let (prev, op, next) = (
        f.ops.get(i.checked_sub(1)?)?,
        f.ops.get(i)?,
        f.ops.get(i + 1)?,
    );
    if !matches!(op.opc, Opc::QemuLd | Opc::QemuSt)
        || next.opc != op.opc
        || next.ty != op.ty
        || next.cargs != op.cargs
    {
        return None;
    }
    let bytes = MemOp(*op.cargs.first()? as u8).bytes() as u64;
    if bytes != 4 && bytes != 8 {
        return None;
    }
    let addr_arg = if op.opc == Opc::QemuLd { 0 } else { 1 };
    let (a, b) = (*op.iargs.get(addr_arg)?, *next.iargs.get(addr_arg)?);
    let add_ok = prev.opc == Opc::Add
        && prev.ty == Type::I64
        && prev.oargs.first() == Some(&b)
        && prev.iargs.first() == Some(&a)
        && prev.iargs.get(1).and_then(|&c| f.const_value(c)) == Some(bytes);
    let clobbers_b = op.oargs.first() == Some(&b);
    (add_ok && a != b && !clobbers_b).then_some(next)
}

/// The `mov` after op `i` when the two add a constant to a 64-bit global and nothing else
/// reads the sum: `add t, G, $c ; mov G, t` (how the translator advances `pc` before a
/// `goto_tb`): one read-modify-write of env instead of a load, an add and a store.
fn global_bump_at<'f>(f: &'f Func, i: usize, uses: &[u32], locs: &[Option<Loc>]) -> Option<&'f Op> {
    let (op, next) = (f.ops.get(i)?, f.ops.get(i + 1)?);
    let (&t, &g, &c) = (op.oargs.first()?, op.iargs.first()?, op.iargs.get(1)?);
    let is_env64 = |x: Temp| matches!(locs.get(x.index()), Some(Some(Loc::Env(_, false))));
    let local = matches!(locs.get(t.index()), Some(Some(Loc::Slot(_))));
    let ok = op.opc == Opc::Add
        && op.ty == Type::I64
        && next.opc == Opc::Mov
        && next.ty == Type::I64
        && next.iargs.first() == Some(&t)
        && next.oargs.first() == Some(&g)
        && is_env64(g)
        && local
        && g != c
        && f.const_value(c).is_some_and(fits_i32)
        // Read once: by the `mov`.
        && uses.get(t.index()) == Some(&1);
    ok.then_some(next)
}

impl Gen<'_> {
    /// `add t, G, $c ; mov G, t` (see [`global_bump_at`]) as an add to env.
    fn global_bump(&mut self, op: &Op) -> Result<(), BackendError> {
        let (g, c) = (Self::i(op, 0)?, Self::i(op, 1)?);
        let Loc::Env(off, false) = self.loc(g)? else {
            return Err(bad("global bump of a non-global"));
        };
        let v = self
            .f
            .const_value(c)
            .ok_or_else(|| bad("global bump by a non-constant"))?;
        self.pinned = [None; 4];
        self.drop_temp(g);
        dynasm!(self.a ; .arch x64 ; add QWORD [rbx + off], v as i32);
        // rax still holds what it held, except `g`.
        self.rax_kept = Some(g);
        Ok(())
    }

    /// `mov G, $c` into a global as one store of an immediate (no `rax`); false when the
    /// input is no constant fitting the store or the output no global.
    fn mov_imm_to_env(&mut self, d: Temp, a: Temp) -> Result<bool, BackendError> {
        let (Loc::Env(off, w32), Loc::Imm(v)) = (self.loc(d)?, self.loc(a)?) else {
            return Ok(false);
        };
        if self.frozen || (!w32 && !fits_i32(v)) {
            return Ok(false);
        }
        self.pinned = [None; 4];
        self.drop_temp(d);
        if w32 {
            dynasm!(self.a ; .arch x64 ; mov DWORD [rbx + off], v as i32);
        } else {
            dynasm!(self.a ; .arch x64 ; mov QWORD [rbx + off], v as i32);
        }
        self.rax_kept = Some(d);
        Ok(true)
    }

    /// A pair of loads or stores (see [`pair_at`]): one TLB probe over both elements, the
    /// slow path (a miss, a page crossing, a flagged entry) does both accesses in order.
    fn mem_pair(&mut self, op: &Op, next: &Op) -> Result<(), BackendError> {
        let ty = op.ty;
        let (m, mmu) = (MemOp(Self::c(op, 0)? as u8), Self::c(op, 1)? & 0xff);
        let oi = m.0 as u64 | mmu << 8;
        let bytes = m.bytes() as i32;
        let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
        if op.opc == Opc::QemuLd {
            self.load(RSI, Self::i(op, 0)?)?;
            self.frozen = true;
            self.tlb_probe_span(m, 2 * bytes as u64, mmu as usize, TLBE_ADDR_READ, slow);
            match (bytes, m.signed()) {
                (4, false) => dynasm!(self.a
                    ; .arch x64
                    ; mov eax, [rsi + rdx]
                    ; mov ecx, [rsi + rdx + 4]
                ),
                (4, true) => dynasm!(self.a
                    ; .arch x64
                    ; movsxd rax, DWORD [rsi + rdx]
                    ; movsxd rcx, DWORD [rsi + rdx + 4]
                ),
                _ => dynasm!(self.a
                    ; .arch x64
                    ; mov rax, [rsi + rdx]
                    ; mov rcx, [rsi + rdx + 8]
                ),
            }
            dynasm!(self.a ; .arch x64 ; =>done);
            self.defer_slow(slow, done, oi, None);
            if let Some(p) = self.slow.last_mut() {
                p.pair = Some(None);
            }
            self.frozen = false;
            if ty == Type::I32 {
                dynasm!(self.a ; .arch x64 ; mov eax, eax ; mov ecx, ecx);
            }
            self.store(Self::o(op, 0)?, RAX)?;
            self.store(Self::o(next, 0)?, RCX)?;
        } else {
            let (v1, v2) = (Self::i(op, 0)?, Self::i(next, 0)?);
            self.load(RSI, Self::i(op, 1)?)?;
            self.frozen = true;
            self.tlb_probe_span(m, 2 * bytes as u64, mmu as usize, TLBE_ADDR_WRITE, slow);
            self.load(RCX, v1)?;
            if bytes == 4 {
                dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], ecx);
            } else {
                dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], rcx);
            }
            self.load(RCX, v2)?;
            if bytes == 4 {
                dynasm!(self.a ; .arch x64 ; mov [rsi + rdx + 4], ecx);
            } else {
                dynasm!(self.a ; .arch x64 ; mov [rsi + rdx + 8], rcx);
            }
            dynasm!(self.a ; .arch x64 ; =>done);
            self.defer_slow(slow, done, oi, Some(v1));
            if let Some(p) = self.slow.last_mut() {
                p.pair = Some(Some(v2));
            }
            self.frozen = false;
        }
        Ok(())
    }
}

/// The ops, the exits and slow paths after the entries; `inner`: offset of the inner
/// entry of a shared-frame TB.
fn finish(
    mut g: Gen<'_>,
    func: &Func,
    inner: Option<usize>,
    loop_entry: LoopEntry,
    limit: DynamicLabel,
    scratch: &mut Scratch,
) -> Result<QuickCode, BackendError> {
    let mut skip = false;
    for (i, op) in func.ops.iter().enumerate() {
        if std::mem::take(&mut skip) {
            continue;
        }
        if op.opc == Opc::InsnStart {
            // No code: what rax holds stays valid.
            g.pc = Gen::c(op, 0)?;
            continue;
        }
        let at = g.a.offset().0;
        let held = std::mem::take(&mut g.rax_val);
        g.clean = held.iter().any(Option::is_some).then_some((at, held));
        g.last_store = None;
        g.rax_kept = None;
        g.mov_src = None;
        g.pinned = [None; 4];
        let bump = global_bump_at(func, i, &g.uses, &g.locs);
        let second = bump.or_else(|| pair_at(func, i));
        let inputs = op
            .iargs
            .iter()
            .chain(second.iter().flat_map(|s| s.iargs.iter()));
        for (k, t) in inputs.enumerate() {
            if let Some(u) = g.uses.get_mut(t.index()) {
                *u = u.saturating_sub(1);
            }
            if let Some(p) = g.pinned.get_mut(k) {
                *p = Some(*t);
            } else {
                // More inputs than pins (helper calls): keep every value.
                g.pinned = [Some(Temp(u32::MAX)); 4];
            }
        }
        match (second, bump) {
            (Some(_), Some(_)) => {
                g.global_bump(op)?;
                skip = true;
            }
            (Some(s), None) => {
                g.mem_pair(op, s)?;
                skip = true;
            }
            (None, _) => g.op(op)?,
        }
        let end = g.a.offset().0;
        if let Some((_, t)) = g.last_store.filter(|&(o, _)| o == end) {
            g.rax_val = [Some(t), g.mov_src.filter(|&s| s != t)];
        } else if let Some(d) = g.rax_kept {
            g.rax_val = held.map(|h| h.filter(|&t| t != d));
        }
    }
    // Running off the end is invalid IR (the verifier requires a final exit); leave
    // through the loop anyway rather than execute whatever follows.
    g.exit_code(ExitCode::LOOKUP);
    dynasm!(g.a
        ; .arch x64
        ; =>g.requested
        ; mov eax, ExitCode::REQUESTED as i32
        ; jmp =>g.ret
        ; =>limit
        ; mov eax, ExitCode::LOOKUP as i32
        ; jmp =>g.ret
        ; =>g.fault
        ; mov eax, ExitCode::FAULT as i32
        ; =>g.ret
    );
    g.epilogue();
    dynasm!(g.a ; .arch x64 ; ret);
    let loop_entry = match loop_entry {
        LoopEntry::At(o) => o,
        LoopEntry::AtEnd(to) => {
            let o = g.a.offset().0;
            g.frame_setup();
            dynasm!(g.a ; .arch x64 ; jmp =>to);
            o
        }
    };
    let mut slow = std::mem::take(&mut g.slow);
    for p in slow.drain(..) {
        g.slow_path(&p)?;
    }
    let mut data = std::mem::take(&mut g.data);
    for (l, bytes) in data.drain(..) {
        dynasm!(g.a ; .arch x64 ; .align 16 ; =>l);
        g.a.extend(bytes);
    }
    // Copied out at its size: the assembler keeps its buffer (sized for the largest TB
    // so far) for the next TB, where `take` would hand it over and make the next TB
    // allocate and grow the heap again.
    let code: Vec<u8> =
        g.a.drain()
            .map_err(|e| BackendError::Compile(format!("quick code: {e}")))?
            .collect();
    // Everything goes back for the next TB only after a success.
    *scratch = Scratch {
        asm: Some(g.a),
        locs: g.locs,
        uses: g.uses,
        labels: g.labels,
        slow,
        data,
        seen: std::mem::take(&mut scratch.seen),
    };
    Ok(QuickCode {
        code,
        loop_entry,
        sites: g.sites,
        inner,
        inner_sites: g.inner_sites,
    })
}

impl Gen<'_> {
    /// Entry: env into rbx (saving the caller's), the slots, the exit-request check.
    fn prologue(&mut self) {
        self.frame_setup();
        self.exit_check();
    }

    /// Env into rbx (saving the caller's rbx and `r12`-`r15`), the slots.
    fn frame_setup(&mut self) {
        dynasm!(self.a
            ; .arch x64
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; mov rbx, rdi
        );
        if self.frame > 0 {
            dynasm!(self.a ; .arch x64 ; sub rsp, self.frame);
        }
    }

    /// Leaves with `REQUESTED` if an exit is requested.
    fn exit_check(&mut self) {
        const _: () = assert!(ENV_EXIT_REQUEST == 0);
        dynasm!(self.a
            ; .arch x64
            ; cmp DWORD [rbx], 0
            ; jne =>self.requested
        );
    }

    /// A `jmp rel32` with a 4-aligned displacement of 0 (falls through); returns the
    /// offset of the displacement.
    fn jmp_site(&mut self) -> usize {
        while !(self.a.offset().0 + 1).is_multiple_of(4) {
            self.a.push(0x90);
        }
        self.a.push(0xe9);
        let site = self.a.offset().0;
        self.a.extend([0, 0, 0, 0]);
        site
    }

    /// Leaving the TB (a `ret` or a jump to the next TB follows): env back in rdi, the
    /// caller's rbx and rsp restored. Only where the op pushed nothing.
    fn epilogue(&mut self) {
        debug_assert_eq!(self.sp_adj, 0);
        dynasm!(self.a ; .arch x64 ; mov rdi, rbx);
        if self.frame > 0 {
            dynasm!(self.a ; .arch x64 ; add rsp, self.frame);
        }
        dynasm!(self.a
            ; .arch x64
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
        );
    }

    /// `op reg, [base + disp]` (or `op [base + disp], reg`) with a 64-bit (`w`) or 32-bit
    /// operand, in the shortest encoding: no displacement, 8 bits, or 32 bits.
    fn rm(&mut self, w: bool, op: u8, reg: u8, base: u8, disp: i32) {
        let rex = 0x40 | (w as u8) << 3 | (reg >> 3 & 1) << 2 | (base >> 3 & 1);
        if rex != 0x40 {
            self.a.push(rex);
        }
        self.a.push(op);
        let (md, d8) = if disp == 0 && base & 7 != 5 {
            (0u8, None)
        } else if disp == disp as i8 as i32 {
            (1, Some(disp as i8))
        } else {
            (2, None)
        };
        self.a.push(md << 6 | (reg & 7) << 3 | (base & 7));
        if base & 7 == 4 {
            // SIB: base only (rsp, r12).
            self.a.push(0x24);
        }
        match (md, d8) {
            (1, Some(d)) => self.a.push(d as u8),
            (2, _) => self.a.extend(disp.to_le_bytes()),
            _ => {}
        }
    }

    /// `op rax, imm8` (opcode 0x83 with its `/digit`: add 0, or 1, and 4, sub 5, xor 6,
    /// cmp 7), the immediate sign-extended; `w`: 64-bit.
    fn imm8_op(&mut self, w: bool, digit: u8, i: i8) {
        if w {
            self.a.push(0x48);
        }
        self.a.extend([0x83, 0xc0 | digit << 3, i as u8]);
    }

    fn loc(&self, t: Temp) -> Result<Loc, BackendError> {
        self.locs
            .get(t.index())
            .copied()
            .flatten()
            .ok_or_else(|| bad(format!("temp t{} out of range", t.0)))
    }

    fn mov_imm(&mut self, r: u8, v: u64) {
        self.drop_reg(r);
        if v <= u32::MAX as u64 {
            dynasm!(self.a ; .arch x64 ; mov Rd(r), v as i32);
        } else if fits_i32(v) {
            dynasm!(self.a ; .arch x64 ; mov Rq(r), v as i32);
        } else {
            dynasm!(self.a ; .arch x64 ; mov Rq(r), QWORD v as i64);
        }
    }

    /// Loads temp `t` into register `r` (64 bits, I32 values zero-extended).
    fn load(&mut self, r: u8, t: Temp) -> Result<(), BackendError> {
        let at = self.a.offset().0;
        let clean = self.clean.filter(|&(o, _)| o == at);
        if let Some((_, c)) = clean {
            if c.contains(&Some(t)) {
                if r != RAX {
                    self.drop_reg(r);
                    dynasm!(self.a ; .arch x64 ; mov Rq(r), rax);
                    self.clean = Some((self.a.offset().0, c));
                }
                return Ok(());
            }
        }
        self.drop_reg(r);
        if let Some(k) = self.cached(t) {
            let c = CACHE_REGS[k];
            dynasm!(self.a ; .arch x64 ; mov Rq(r), Rq(c));
            if let Some(i) = cache_index(r) {
                if !self.frozen {
                    self.set_cache(i, t);
                }
            }
        } else {
            self.load_mem(r, t)?;
            if !matches!(self.loc(t)?, Loc::Imm(_)) {
                self.remember(t, r);
            }
        }
        self.clean = match clean {
            Some((_, c)) if r != RAX => Some((self.a.offset().0, c)),
            _ => None,
        };
        Ok(())
    }

    /// The cache slot holding `t`, marked as used.
    fn cached(&mut self, t: Temp) -> Option<usize> {
        let k = self.cache.iter().position(|&c| c == Some(t))?;
        self.clock += 1;
        self.stamp[k] = self.clock;
        Some(k)
    }

    /// A register holding `t` for use as a second operand: its cache register if it has
    /// one (and `rax` was not loaded from it: `rax` is the first operand), else `rcx`
    /// loaded with it.
    fn src_reg(&mut self, t: Temp) -> Result<u8, BackendError> {
        let at = self.a.offset().0;
        let in_rax = self
            .clean
            .is_some_and(|(o, c)| o == at && c.contains(&Some(t)));
        if !in_rax {
            if let Some(k) = self.cached(t) {
                return Ok(CACHE_REGS[k]);
            }
            // Read again later: loaded into a cache register of its own (not `rcx` and a
            // copy), one holding none of the op's inputs.
            let pins = self.pinned;
            let imm = matches!(self.loc(t)?, Loc::Imm(_));
            if !imm && self.claimable(t) && !pins.contains(&Some(Temp(u32::MAX))) {
                let keep: Vec<Temp> = pins.iter().flatten().copied().collect();
                if let Some(k) = self.claim(&keep) {
                    let c = CACHE_REGS[k];
                    self.load(c, t)?;
                    return Ok(c);
                }
            }
        }
        self.load(RCX, t)?;
        Ok(RCX)
    }

    /// Makes cache register `k` a clean copy of `t` (its previous value was spilled or
    /// is dead).
    fn set_cache(&mut self, k: usize, t: Temp) {
        self.clock += 1;
        self.cache[k] = Some(t);
        self.dirty[k] = false;
        self.stamp[k] = self.clock;
    }

    /// Whether the value of `t` is read again (by a later op, or by the current one
    /// before it stores its output).
    fn live(&self, t: Temp) -> bool {
        self.uses.get(t.index()).copied().unwrap_or(0) > 0
            || self
                .pinned
                .iter()
                .any(|&p| p == Some(t) || p == Some(Temp(u32::MAX)))
    }

    /// Writes cache register `k` to its local's slot if it holds the only copy of a value
    /// that is read again.
    fn spill(&mut self, k: usize) {
        if !std::mem::take(&mut self.dirty[k]) {
            return;
        }
        let Some(t) = self.cache[k] else { return };
        if !self.live(t) {
            return;
        }
        if let Some(Some(Loc::Slot(d))) = self.locs.get(t.index()) {
            let d = d + self.sp_adj;
            self.rm(true, opc::MOV_STORE, CACHE_REGS[k], RSP, d);
        }
    }

    /// Spills every dirty cache register (before a branch, a label or a call: the code
    /// that follows reads locals from their slots).
    fn flush(&mut self) {
        for k in 0..self.cache.len() {
            self.spill(k);
        }
    }

    /// Register `r` is about to be overwritten: forget what the cache had there (after
    /// spilling it). In the memory paths (`frozen`) a cache register is only overwritten
    /// between `push_cache` and `pop_cache`, which restores it: nothing to forget.
    fn drop_reg(&mut self, r: u8) {
        if let Some(k) = cache_index(r) {
            if self.frozen {
                return;
            }
            self.spill(k);
            self.cache[k] = None;
        }
    }

    /// Forgets every cached copy (after a call, at a label; `flush` ran before).
    fn drop_cache(&mut self) {
        debug_assert!(self.dirty.iter().all(|d| !d));
        self.cache = [None; NCACHE];
        self.dirty = [false; NCACHE];
    }

    /// Forgets cached globals that overlap env bytes `[off, off + len)` (a raw env store).
    fn drop_env(&mut self, off: i32, len: i32) {
        for k in 0..self.cache.len() {
            if let Some(t) = self.cache[k] {
                if let Some(Some(Loc::Env(d, w32))) = self.locs.get(t.index()) {
                    let n = if *w32 { 4 } else { 8 };
                    if *d < off + len && off < d + n {
                        self.cache[k] = None;
                    }
                }
            }
        }
    }

    /// Forgets cached copies of `t` (it is being redefined: the old value is dead).
    fn drop_temp(&mut self, t: Temp) {
        for k in 0..self.cache.len() {
            if self.cache[k] == Some(t) {
                self.cache[k] = None;
                self.dirty[k] = false;
            }
        }
    }

    /// Keeps a copy of `t`, which register `r` holds, in the cache (unless `r` is a cache
    /// register itself, or the cache is frozen).
    fn remember(&mut self, t: Temp, r: u8) {
        if let Some(k) = cache_index(r) {
            if !self.frozen {
                self.set_cache(k, t);
            }
            return;
        }
        // Only a value later ops read is worth a register (not one only the current op
        // reads: it is in `r` for the op already).
        if self.frozen || self.uses.get(t.index()).copied().unwrap_or(0) == 0 {
            return;
        }
        self.cache_copy(t, r);
    }

    /// Copies register `r` (not a cache register), which holds `t`, into a cache register:
    /// a free one, else one whose temp is not read again, else the least recently used
    /// (spilled first if it is dirty). Returns the cache slot.
    fn cache_copy(&mut self, t: Temp, r: u8) -> usize {
        let dead = |g: &Self, k: usize| g.cache[k].is_none_or(|c| !g.live(c));
        let k = match (0..NCACHE).find(|&k| dead(self, k)) {
            Some(k) => k,
            None => (0..NCACHE).min_by_key(|&k| self.stamp[k]).unwrap_or(0),
        };
        if !dead(self, k) {
            self.spill(k);
        }
        let c = CACHE_REGS[k];
        dynasm!(self.a ; .arch x64 ; mov Rq(c), Rq(r));
        self.set_cache(k, t);
        k
    }

    /// Whether the current op should compute its result `d` in a cache register: a later
    /// op reads it (else `rax` serves as well), and the cache may change.
    fn claimable(&self, d: Temp) -> bool {
        !self.frozen && self.uses.get(d.index()).copied().unwrap_or(0) > 0
    }

    /// An emptied cache slot for the current op's result (so it needs no copy out of
    /// `rax`): a free one or one whose temp is not read again, else the least recently
    /// used (spilled first); never one holding a temp of `keep` (the op's inputs).
    fn claim(&mut self, keep: &[Temp]) -> Option<usize> {
        if self.frozen {
            return None;
        }
        let held = |g: &Self, k: usize| g.cache[k].is_some_and(|c| keep.contains(&c));
        let dead = |g: &Self, k: usize| g.cache[k].is_none_or(|c| !g.live(c));
        let k = (0..NCACHE)
            .find(|&k| !held(self, k) && dead(self, k))
            .or_else(|| {
                (0..NCACHE)
                    .filter(|&k| !held(self, k))
                    .min_by_key(|&k| self.stamp[k])
            })?;
        if !dead(self, k) {
            self.spill(k);
        }
        self.cache[k] = None;
        self.dirty[k] = false;
        self.clock += 1;
        self.stamp[k] = self.clock;
        Some(k)
    }

    /// Saves the caller-saved cache registers around a call on a slow path (keeps rsp
    /// 16-aligned; the call keeps `r12`-`r15`).
    fn push_cache(&mut self) {
        dynasm!(self.a ; .arch x64 ; push r8 ; push r9 ; push r10 ; push r11);
        self.sp_adj += 32;
    }

    fn pop_cache(&mut self) {
        dynasm!(self.a ; .arch x64 ; pop r11 ; pop r10 ; pop r9 ; pop r8);
        self.sp_adj -= 32;
    }

    fn load_mem(&mut self, r: u8, t: Temp) -> Result<(), BackendError> {
        match self.loc(t)? {
            Loc::Imm(v) => self.mov_imm(r, v),
            Loc::Slot(d) => {
                let d = d + self.sp_adj;
                self.rm(true, opc::MOV_LOAD, r, RSP, d)
            }
            Loc::Env(d, false) => dynasm!(self.a ; .arch x64 ; mov Rq(r), [rbx + d]),
            Loc::Env(d, true) => dynasm!(self.a ; .arch x64 ; mov Rd(r), [rbx + d]),
        }
        Ok(())
    }

    /// Stores register `r` into temp `t` (an I32 temp gets the low half; the register
    /// must then hold it zero-extended).
    fn store(&mut self, t: Temp, r: u8) -> Result<(), BackendError> {
        // Ops store their outputs after loading all their inputs.
        self.pinned = [None; 4];
        self.drop_temp(t);
        let loc = self.loc(t)?;
        if self.lazy && !self.frozen && matches!(loc, Loc::Slot(_)) {
            // A local lives in the cache until it must be spilled, and is not kept at all
            // if nothing reads it again.
            if self.live(t) {
                let k = match cache_index(r) {
                    Some(k) => {
                        self.set_cache(k, t);
                        k
                    }
                    None => self.cache_copy(t, r),
                };
                self.dirty[k] = true;
            }
            if r == RAX {
                self.last_store = Some((self.a.offset().0, t));
            }
            return Ok(());
        }
        match loc {
            Loc::Imm(_) => return Err(bad("output to a constant")),
            Loc::Slot(d) => {
                let d = d + self.sp_adj;
                self.rm(true, opc::MOV_STORE, r, RSP, d)
            }
            Loc::Env(d, false) => dynasm!(self.a ; .arch x64 ; mov [rbx + d], Rq(r)),
            Loc::Env(d, true) => dynasm!(self.a ; .arch x64 ; mov [rbx + d], Rd(r)),
        }
        self.remember(t, r);
        if r == RAX {
            self.last_store = Some((self.a.offset().0, t));
        }
        Ok(())
    }

    /// `mov d, a` with `a` in a cache register and `d` a global: stores that register
    /// straight to env (not through `rax`); the register then caches `d` if nothing reads
    /// `a` again. False (nothing emitted) when `a` is not cached or `d` is not a global.
    fn mov_from_cache(&mut self, d: Temp, a: Temp) -> Result<bool, BackendError> {
        if self.frozen {
            return Ok(false);
        }
        let Loc::Env(off, w32) = self.loc(d)? else {
            return Ok(false);
        };
        let Some(k) = self.cached(a) else {
            return Ok(false);
        };
        let c = CACHE_REGS[k];
        self.pinned = [None; 4];
        self.drop_temp(d);
        if w32 {
            dynasm!(self.a ; .arch x64 ; mov [rbx + off], Rd(c));
        } else {
            dynasm!(self.a ; .arch x64 ; mov [rbx + off], Rq(c));
        }
        if !self.live(a) && self.live(d) {
            // `a` (clean or not) is dead: the register now holds `d`, which env has too.
            self.set_cache(k, d);
        }
        self.rax_kept = Some(d);
        Ok(true)
    }

    /// The constant value of `t` as an x86 immediate for an op of type `ty`, if it is one
    /// (32-bit ops take any 32-bit value, 64-bit ops a sign-extended 32-bit one).
    fn imm(&self, t: Temp, ty: Type) -> Option<i32> {
        let v = self.f.const_value(t)?;
        match ty {
            Type::I32 => Some(v as u32 as i32),
            Type::I64 => fits_i32(v).then_some(v as i32),
        }
    }

    fn i(op: &Op, k: usize) -> Result<Temp, BackendError> {
        op.iargs
            .get(k)
            .copied()
            .ok_or_else(|| bad(format!("{}: missing input {k}", op.opc.name())))
    }

    fn o(op: &Op, k: usize) -> Result<Temp, BackendError> {
        op.oargs
            .get(k)
            .copied()
            .ok_or_else(|| bad(format!("{}: missing output {k}", op.opc.name())))
    }

    fn c(op: &Op, k: usize) -> Result<u64, BackendError> {
        op.cargs
            .get(k)
            .copied()
            .ok_or_else(|| bad(format!("{}: missing constant {k}", op.opc.name())))
    }

    fn label(&self, l: u64) -> Result<DynamicLabel, BackendError> {
        self.labels
            .get(l as usize)
            .copied()
            .ok_or_else(|| bad(format!("label {l} out of range")))
    }

    /// `mov eax, eax` when `ty` is I32 (truncates a call result).
    fn trunc(&mut self, ty: Type) {
        if ty == Type::I32 {
            dynasm!(self.a ; .arch x64 ; mov eax, eax);
        }
    }

    /// Calls `addr`; the callee may clobber the cache registers (see `call_saving`).
    fn call(&mut self, addr: usize) {
        // The argument registers are set: spills only store.
        self.flush();
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD addr as i64
            ; call rax
        );
        self.drop_cache();
    }

    /// Calls `addr` keeping the cache registers (pushed by `push_cache` before the
    /// argument set-up, which may overwrite `r8`/`r9`).
    fn call_saving(&mut self, addr: usize) {
        dynasm!(self.a
            ; .arch x64
            ; mov rax, QWORD addr as i64
            ; call rax
        );
        self.pop_cache();
    }

    /// After a guest memory access: leave with FAULT if the access recorded one.
    fn check_fault(&mut self) {
        dynasm!(self.a
            ; .arch x64
            ; cmp DWORD [rbx + ENV_FAULT as i32], 0
            ; jne =>self.fault
        );
    }

    fn exit_code(&mut self, code: u64) {
        self.mov_imm(RAX, code);
        dynasm!(self.a ; .arch x64 ; jmp =>self.ret);
    }

    /// Compares `a` with `b` as `ty` for `cond`; returns the x86 condition.
    fn compare(&mut self, cond: Cond, ty: Type, a: Temp, b: Temp) -> Result<Cc, BackendError> {
        // `a` from its cache register if it has one and `rax` does not hold it already
        // (no copy into `rax` first); the callers overwrite `rax` or leave it unused.
        let at = self.a.offset().0;
        let in_rax = self
            .clean
            .is_some_and(|(o, c)| o == at && c.contains(&Some(a)));
        let ra = match self.cached(a).filter(|_| !in_rax) {
            Some(k) => CACHE_REGS[k],
            None => {
                self.load(RAX, a)?;
                RAX
            }
        };
        let test = matches!(cond, Cond::TstEq | Cond::TstNe);
        let w = ty == Type::I64;
        match (self.imm(b, ty), test, w) {
            (Some(i), false, w) if ra == RAX && i == i as i8 as i32 => self.imm8_op(w, 7, i as i8),
            (Some(i), false, true) => dynasm!(self.a ; .arch x64 ; cmp Rq(ra), i),
            (Some(i), false, false) => dynasm!(self.a ; .arch x64 ; cmp Rd(ra), i),
            (Some(i), true, true) => dynasm!(self.a ; .arch x64 ; test Rq(ra), i),
            (Some(i), true, false) => dynasm!(self.a ; .arch x64 ; test Rd(ra), i),
            (None, t, w) => {
                let rb = self.src_reg(b)?;
                match (t, w) {
                    (false, true) => dynasm!(self.a ; .arch x64 ; cmp Rq(ra), Rq(rb)),
                    (false, false) => dynasm!(self.a ; .arch x64 ; cmp Rd(ra), Rd(rb)),
                    (true, true) => dynasm!(self.a ; .arch x64 ; test Rq(ra), Rq(rb)),
                    (true, false) => dynasm!(self.a ; .arch x64 ; test Rd(ra), Rd(rb)),
                }
            }
        }
        Ok(match cond {
            Cond::Eq | Cond::TstEq => Cc::E,
            Cond::Ne | Cond::TstNe => Cc::Ne,
            Cond::Lt => Cc::L,
            Cond::Ge => Cc::Ge,
            Cond::Le => Cc::Le,
            Cond::Gt => Cc::G,
            Cond::Ltu => Cc::B,
            Cond::Geu => Cc::Ae,
            Cond::Leu => Cc::Be,
            Cond::Gtu => Cc::A,
        })
    }

    fn jcc(&mut self, cc: Cc, l: DynamicLabel) {
        match cc {
            Cc::B => dynasm!(self.a ; .arch x64 ; jb =>l),
            Cc::Ae => dynasm!(self.a ; .arch x64 ; jae =>l),
            Cc::E => dynasm!(self.a ; .arch x64 ; je =>l),
            Cc::Ne => dynasm!(self.a ; .arch x64 ; jne =>l),
            Cc::Be => dynasm!(self.a ; .arch x64 ; jbe =>l),
            Cc::A => dynasm!(self.a ; .arch x64 ; ja =>l),
            Cc::L => dynasm!(self.a ; .arch x64 ; jl =>l),
            Cc::Ge => dynasm!(self.a ; .arch x64 ; jge =>l),
            Cc::Le => dynasm!(self.a ; .arch x64 ; jle =>l),
            Cc::G => dynasm!(self.a ; .arch x64 ; jg =>l),
        }
    }

    fn cond_of(op: &Op, k: usize) -> Result<Cond, BackendError> {
        Cond::from_u64(Self::c(op, k)?).ok_or_else(|| bad("bad condition"))
    }

    fn op(&mut self, op: &Op) -> Result<(), BackendError> {
        use Opc::*;
        let ty = op.ty;
        let w = ty == Type::I64;
        match op.opc {
            SetLabel => {
                let l = self.label(Self::c(op, 0)?)?;
                self.flush();
                dynasm!(self.a ; .arch x64 ; =>l);
                // Control flow merges here.
                self.drop_cache();
            }
            InsnStart => self.pc = Self::c(op, 0)?,
            Mov => {
                let (d, a) = (Self::o(op, 0)?, Self::i(op, 0)?);
                let at = self.a.offset().0;
                let in_rax = self
                    .clean
                    .is_some_and(|(o, c)| o == at && c.contains(&Some(a)));
                if !in_rax && (self.mov_from_cache(d, a)? || self.mov_imm_to_env(d, a)?) {
                    return Ok(());
                }
                self.load(RAX, a)?;
                // rax holds `a` now, wherever it came from.
                self.mov_src = Some(a);
                self.store(d, RAX)?;
            }
            Add | Sub | And | Or | Xor | Mul => self.alu(op)?,
            Andc | Orc | Eqv => {
                self.load(RAX, Self::i(op, 0)?)?;
                self.load(RCX, Self::i(op, 1)?)?;
                match (op.opc, w) {
                    (Andc, true) => dynasm!(self.a ; .arch x64 ; not rcx ; and rax, rcx),
                    (Andc, false) => dynasm!(self.a ; .arch x64 ; not ecx ; and eax, ecx),
                    (Orc, true) => dynasm!(self.a ; .arch x64 ; not rcx ; or rax, rcx),
                    (Orc, false) => dynasm!(self.a ; .arch x64 ; not ecx ; or eax, ecx),
                    (_, true) => dynasm!(self.a ; .arch x64 ; xor rax, rcx ; not rax),
                    (_, false) => dynasm!(self.a ; .arch x64 ; xor eax, ecx ; not eax),
                }
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Shl | Shr | Sar | Rotl | Rotr => self.shift(op)?,
            Neg | Not if self.unary_in_place(op)? => {}
            Neg | Not => {
                self.load(RAX, Self::i(op, 0)?)?;
                match (op.opc, w) {
                    (Neg, true) => dynasm!(self.a ; .arch x64 ; neg rax),
                    (Neg, false) => dynasm!(self.a ; .arch x64 ; neg eax),
                    (_, true) => dynasm!(self.a ; .arch x64 ; not rax),
                    (_, false) => dynasm!(self.a ; .arch x64 ; not eax),
                }
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Ext8s | Ext8u | Ext16s | Ext16u | Ext32s | Ext32u | ExtuI32I64 | ExtsI32I64
            | ExtrlI64I32 | ExtrhI64I32
                if self.unary_in_place(op)? || self.ext32u_from_env(op)? => {}
            Ext8s | Ext8u | Ext16s | Ext16u | Ext32s | Ext32u | ExtuI32I64 | ExtsI32I64
            | ExtrlI64I32 | ExtrhI64I32 => {
                self.load(RAX, Self::i(op, 0)?)?;
                match (op.opc, w) {
                    (Ext8s, true) => dynasm!(self.a ; .arch x64 ; movsx rax, al),
                    (Ext8s, false) => dynasm!(self.a ; .arch x64 ; movsx eax, al),
                    (Ext8u, _) => dynasm!(self.a ; .arch x64 ; movzx eax, al),
                    (Ext16s, true) => dynasm!(self.a ; .arch x64 ; movsx rax, ax),
                    (Ext16s, false) => dynasm!(self.a ; .arch x64 ; movsx eax, ax),
                    (Ext16u, _) => dynasm!(self.a ; .arch x64 ; movzx eax, ax),
                    (Ext32s, true) | (ExtsI32I64, _) => {
                        dynasm!(self.a ; .arch x64 ; movsxd rax, eax)
                    }
                    (Ext32s | Ext32u, false) | (Ext32u | ExtuI32I64 | ExtrlI64I32, _) => {
                        dynasm!(self.a ; .arch x64 ; mov eax, eax)
                    }
                    _ => dynasm!(self.a ; .arch x64 ; shr rax, 32),
                }
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Div | Divu | Rem | Remu => self.div(op)?,
            Bswap16 | Bswap32 | Bswap64 => {
                self.load(RAX, Self::i(op, 0)?)?;
                match op.opc {
                    Bswap16 => dynasm!(self.a ; .arch x64 ; rol ax, 8 ; movzx eax, ax),
                    Bswap32 => dynasm!(self.a ; .arch x64 ; bswap eax),
                    _ => dynasm!(self.a ; .arch x64 ; bswap rax),
                }
                // bswap64.i32: the result (in rax for the next op) stays zero-extended.
                self.trunc(ty);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Clz | Ctz | Ctpop if bit_count_insns() => {
                // lzcnt/tzcnt give the operand width for 0, as the IR defines.
                self.load(RAX, Self::i(op, 0)?)?;
                match (op.opc, w) {
                    (Clz, true) => dynasm!(self.a ; .arch x64 ; lzcnt rax, rax),
                    (Clz, false) => dynasm!(self.a ; .arch x64 ; lzcnt eax, eax),
                    (Ctz, true) => dynasm!(self.a ; .arch x64 ; tzcnt rax, rax),
                    (Ctz, false) => dynasm!(self.a ; .arch x64 ; tzcnt eax, eax),
                    (_, true) => dynasm!(self.a ; .arch x64 ; popcnt rax, rax),
                    (_, false) => dynasm!(self.a ; .arch x64 ; popcnt eax, eax),
                }
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Clz | Ctz | Ctpop => {
                // Hosts without LZCNT/BMI1/POPCNT: the IR's own semantics, through a call.
                let code = op.opc as u64 | (w as u64) << 16;
                self.load(RSI, Self::i(op, 0)?)?;
                if op.opc.def().nb_iargs == 2 {
                    self.load(RDX, Self::i(op, 1)?)?;
                }
                self.mov_imm(RDI, code);
                self.call(qk_pure as *const () as usize);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Deposit => {
                let (pos, len) = (Self::c(op, 0)? as u32, Self::c(op, 1)? as u32);
                if pos >= ty.bits() || len == 0 || pos + len > ty.bits() {
                    return Err(bad("deposit outside its type"));
                }
                let field = if len >= 64 {
                    u64::MAX
                } else {
                    (1u64 << len) - 1
                };
                let mask = (field << pos) & ty.mask();
                self.load(RCX, Self::i(op, 1)?)?;
                if mask == ty.mask() {
                    self.store(Self::o(op, 0)?, RCX)?;
                    return Ok(());
                }
                self.load(RAX, Self::i(op, 0)?)?;
                if pos > 0 {
                    dynasm!(self.a ; .arch x64 ; shl rcx, pos as i8);
                }
                self.mov_imm(RDX, mask);
                dynasm!(self.a ; .arch x64 ; and rcx, rdx);
                self.mov_imm(RDX, !mask & ty.mask());
                dynasm!(self.a ; .arch x64 ; and rax, rdx ; or rax, rcx);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Extract | Sextract => {
                let (pos, len) = (Self::c(op, 0)? as u32, Self::c(op, 1)? as u32);
                let bits = ty.bits();
                if pos >= bits || len == 0 || pos + len > bits {
                    return Err(bad("extract outside its type"));
                }
                self.load(RAX, Self::i(op, 0)?)?;
                let up = (bits - pos - len) as i8;
                let down = (bits - len) as i8;
                match (op.opc, w) {
                    (Extract, true) => dynasm!(self.a ; .arch x64 ; shl rax, up ; shr rax, down),
                    (Extract, false) => dynasm!(self.a ; .arch x64 ; shl eax, up ; shr eax, down),
                    (_, true) => dynasm!(self.a ; .arch x64 ; shl rax, up ; sar rax, down),
                    (_, false) => dynasm!(self.a ; .arch x64 ; shl eax, up ; sar eax, down),
                }
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Mulu2 | Muls2 => {
                self.load(RAX, Self::i(op, 0)?)?;
                self.load(RCX, Self::i(op, 1)?)?;
                match (op.opc, w) {
                    (Mulu2, true) => dynasm!(self.a ; .arch x64 ; mul rcx),
                    (_, true) => dynasm!(self.a ; .arch x64 ; imul rcx),
                    (Mulu2, false) => {
                        dynasm!(self.a ; .arch x64 ; imul rax, rcx ; mov rdx, rax ; shr rdx, 32 ; mov eax, eax)
                    }
                    (_, false) => dynasm!(self.a
                        ; .arch x64
                        ; movsxd rax, eax
                        ; movsxd rcx, ecx
                        ; imul rax, rcx
                        ; mov rdx, rax
                        ; shr rdx, 32
                        ; mov eax, eax
                    ),
                }
                self.store(Self::o(op, 0)?, RAX)?;
                self.store(Self::o(op, 1)?, RDX)?;
            }
            Setcond => {
                let cc =
                    self.compare(Self::cond_of(op, 0)?, ty, Self::i(op, 0)?, Self::i(op, 1)?)?;
                // setcc al; movzx eax, al
                self.a.extend([0x0f, 0x90 | cc as u8, 0xc0]);
                dynasm!(self.a ; .arch x64 ; movzx eax, al);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Movcond => {
                self.load(RDX, Self::i(op, 2)?)?;
                self.load(RSI, Self::i(op, 3)?)?;
                let cc =
                    self.compare(Self::cond_of(op, 0)?, ty, Self::i(op, 0)?, Self::i(op, 1)?)?;
                // cmovcc rsi, rdx
                self.a.extend([0x48, 0x0f, 0x40 | cc as u8, 0xf2]);
                self.store(Self::o(op, 0)?, RSI)?;
            }
            Brcond => {
                let l = self.label(Self::c(op, 1)?)?;
                let cc =
                    self.compare(Self::cond_of(op, 0)?, ty, Self::i(op, 0)?, Self::i(op, 1)?)?;
                // The compare has read the inputs: no need to keep them for this op
                // (only later reads make a spill worth it). Spill stores leave the
                // flags alone.
                self.pinned = [None; 4];
                self.flush();
                self.jcc(cc, l);
            }
            Br => {
                let l = self.label(Self::c(op, 0)?)?;
                self.flush();
                dynasm!(self.a ; .arch x64 ; jmp =>l);
            }
            LdEnv => {
                let off = i32::try_from(Self::c(op, 0)?).map_err(|_| bad("env offset"))?;
                let m = MemOp(Self::c(op, 1)? as u8);
                match (m.bytes(), m.signed()) {
                    (1, false) => dynasm!(self.a ; .arch x64 ; movzx eax, BYTE [rbx + off]),
                    (1, true) => dynasm!(self.a ; .arch x64 ; movsx rax, BYTE [rbx + off]),
                    (2, false) => dynasm!(self.a ; .arch x64 ; movzx eax, WORD [rbx + off]),
                    (2, true) => dynasm!(self.a ; .arch x64 ; movsx rax, WORD [rbx + off]),
                    (4, false) => dynasm!(self.a ; .arch x64 ; mov eax, [rbx + off]),
                    (4, true) => dynasm!(self.a ; .arch x64 ; movsxd rax, DWORD [rbx + off]),
                    _ => dynasm!(self.a ; .arch x64 ; mov rax, [rbx + off]),
                }
                self.trunc(ty);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            StEnv => {
                let off = i32::try_from(Self::c(op, 0)?).map_err(|_| bad("env offset"))?;
                let m = MemOp(Self::c(op, 1)? as u8);
                self.load(RAX, Self::i(op, 0)?)?;
                self.drop_env(off, m.bytes() as i32);
                match m.bytes() {
                    1 => dynasm!(self.a ; .arch x64 ; mov [rbx + off], al),
                    2 => dynasm!(self.a ; .arch x64 ; mov [rbx + off], ax),
                    4 => dynasm!(self.a ; .arch x64 ; mov [rbx + off], eax),
                    _ => dynasm!(self.a ; .arch x64 ; mov [rbx + off], rax),
                }
            }
            QemuLd => {
                let (m, mmu) = (MemOp(Self::c(op, 0)? as u8), Self::c(op, 1)? & 0xff);
                let oi = m.0 as u64 | mmu << 8;
                let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                let (addr, d) = (Self::i(op, 0)?, Self::o(op, 0)?);
                self.load(RSI, addr)?;
                // A 64-bit result a later op reads goes straight into a cache register
                // (the slow path moves it there too).
                let r = if ty == Type::I64 && self.claimable(d) {
                    self.claim(&[addr]).map_or(RAX, |k| CACHE_REGS[k])
                } else {
                    RAX
                };
                self.frozen = true;
                self.tlb_probe(m, mmu as usize, TLBE_ADDR_READ, slow);
                match (m.bytes(), m.signed()) {
                    (1, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(r), BYTE [rsi + rdx]),
                    (1, true) => dynasm!(self.a ; .arch x64 ; movsx Rq(r), BYTE [rsi + rdx]),
                    (2, false) => dynasm!(self.a ; .arch x64 ; movzx Rd(r), WORD [rsi + rdx]),
                    (2, true) => dynasm!(self.a ; .arch x64 ; movsx Rq(r), WORD [rsi + rdx]),
                    (4, false) => dynasm!(self.a ; .arch x64 ; mov Rd(r), [rsi + rdx]),
                    (4, true) => dynasm!(self.a ; .arch x64 ; movsxd Rq(r), DWORD [rsi + rdx]),
                    _ => dynasm!(self.a ; .arch x64 ; mov Rq(r), [rsi + rdx]),
                }
                dynasm!(self.a ; .arch x64 ; =>done);
                self.defer_slow(slow, done, oi, None);
                if let Some(p) = self.slow.last_mut() {
                    p.dest = r;
                }
                self.frozen = false;
                if r == RAX {
                    self.trunc(ty);
                }
                self.store(d, r)?;
            }
            QemuSt => {
                let (m, mmu) = (MemOp(Self::c(op, 0)? as u8), Self::c(op, 1)? & 0xff);
                let oi = m.0 as u64 | mmu << 8;
                let (slow, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                let v = Self::i(op, 0)?;
                self.load(RSI, Self::i(op, 1)?)?;
                self.frozen = true;
                self.tlb_probe(m, mmu as usize, TLBE_ADDR_WRITE, slow);
                self.load(RCX, v)?;
                match m.bytes() {
                    1 => dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], cl),
                    2 => dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], cx),
                    4 => dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], ecx),
                    _ => dynasm!(self.a ; .arch x64 ; mov [rsi + rdx], rcx),
                }
                dynasm!(self.a ; .arch x64 ; =>done);
                self.defer_slow(slow, done, oi, Some(v));
                self.frozen = false;
            }
            AtomicCmpxchg => {
                let oi = Self::c(op, 0)? | (Self::c(op, 1)? & 0xff) << 8;
                dynasm!(self.a ; .arch x64 ; mov rdi, rbx);
                self.load(RSI, Self::i(op, 0)?)?;
                self.load(RDX, Self::i(op, 1)?)?;
                self.load(RCX, Self::i(op, 2)?)?;
                self.mov_imm(R8, oi);
                self.mov_imm(R9, self.pc);
                self.call(qk_cmpxchg as *const () as usize);
                self.check_fault();
                self.trunc(ty);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            AtomicRmw => {
                let rmw = Self::c(op, 2)?;
                RmwOp::from_u64(rmw).ok_or_else(|| bad("bad atomic op"))?;
                let oi = Self::c(op, 0)? | (Self::c(op, 1)? & 0xff) << 8 | rmw << 16;
                dynasm!(self.a ; .arch x64 ; mov rdi, rbx);
                self.load(RSI, Self::i(op, 0)?)?;
                self.load(RDX, Self::i(op, 1)?)?;
                self.mov_imm(RCX, oi);
                self.mov_imm(R8, self.pc);
                self.call(qk_rmw as *const () as usize);
                self.check_fault();
                self.trunc(ty);
                self.store(Self::o(op, 0)?, RAX)?;
            }
            Mb => {
                let fl = BarrierFlags::from_bits_retain(Self::c(op, 0)? as u8);
                // x86 keeps every order but store -> load.
                if fl.contains(BarrierFlags::ST_LD) {
                    dynasm!(self.a ; .arch x64 ; mfence);
                }
            }
            Call => {
                let h = *self
                    .f
                    .helpers
                    .get(Self::c(op, 0)? as usize)
                    .ok_or_else(|| bad("helper out of range"))?;
                let n = op.iargs.len();
                if n > 6 {
                    return Err(bad("too many helper arguments"));
                }
                const ARGS: [u8; 5] = [RSI, RDX, RCX, R8, R9];
                if n == 6 {
                    // The sixth argument on the stack, keeping rsp 16-aligned.
                    self.load(RAX, op.iargs[5])?;
                    dynasm!(self.a ; .arch x64 ; sub rsp, 8 ; push rax);
                    self.sp_adj += 16;
                }
                for (k, &t) in op.iargs.iter().take(5).enumerate() {
                    self.load(ARGS[k], t)?;
                }
                dynasm!(self.a ; .arch x64 ; mov rdi, rbx);
                self.call(h.addr);
                if n == 6 {
                    dynasm!(self.a ; .arch x64 ; add rsp, 16);
                    self.sp_adj -= 16;
                }
                if let Some(&d) = op.oargs.first() {
                    self.trunc(self.f.ty(d));
                    self.store(d, RAX)?;
                }
            }
            GotoTb => {
                let slot = Self::c(op, 0)?;
                if slot > 1 {
                    return Err(bad("goto_tb slot"));
                }
                self.goto_seen[slot as usize] = true;
                // A direct `jmp rel32` that chaining patches (`Arena::patch_jump`); its
                // displacement is 4-aligned so the patch is one atomic store. Unchained
                // (displacement 0) it falls through to rebuild the frame and leave by the
                // `exit_tb` that follows. With the shared frame, an inner site before
                // the epilogue first (patched instead for a shared-frame target).
                let inner = self.shared.then(|| self.jmp_site());
                self.epilogue();
                let site = self.jmp_site();
                self.sites[slot as usize] = Some(site);
                self.inner_sites[slot as usize] =
                    inner.is_some_and(|i| i + INNER_SITE_DISTANCE == site);
                self.frame_setup();
            }
            LookupGoto => self.lookup_goto(op)?,
            ExitTb => {
                let c = Self::c(op, 0)?;
                let code = if c <= ExitCode::GOTO_TB1 && self.goto_seen[c as usize] {
                    ExitCode::chainable(self.cell, c)
                } else {
                    c
                };
                self.exit_code(code);
            }
            opc if opc.flags().contains(OpFlags::VECTOR) => {
                if !self.vec_native(op)? {
                    self.vec_op(op)?
                }
            }
            opc => {
                return Err(BackendError::Compile(format!(
                    "quick: no code for {}",
                    opc.name()
                )))
            }
        }
        Ok(())
    }

    /// Records the slow path of the access whose fast path jumps to `entry` on a TLB miss
    /// and ends at `done` (the guest address is in `rsi`).
    fn defer_slow(
        &mut self,
        entry: DynamicLabel,
        done: DynamicLabel,
        oi: u64,
        value: Option<Temp>,
    ) {
        self.slow.push(SlowPath {
            entry,
            done,
            oi,
            pc: self.pc,
            value,
            pair: None,
            cache: self.cache,
            sp_adj: self.sp_adj,
            dest: RAX,
        });
    }

    /// Emits a deferred slow path with the cache as its access saw it. The cache
    /// registers hold what they held there (`push_cache` saves them around the call).
    fn slow_path(&mut self, p: &SlowPath) -> Result<(), BackendError> {
        self.cache = p.cache;
        self.dirty = [false; NCACHE];
        self.sp_adj = p.sp_adj;
        self.clean = None;
        self.frozen = true;
        self.pc = p.pc;
        dynasm!(self.a ; .arch x64 ; =>p.entry);
        self.push_cache();
        dynasm!(self.a ; .arch x64 ; mov rdi, rbx);
        match (p.value, p.pair) {
            (None, Some(_)) => {
                self.mov_imm(RDX, p.oi);
                self.mov_imm(RCX, p.pc);
                self.call_saving(qk_ld2 as *const () as usize);
                dynasm!(self.a ; .arch x64 ; mov rcx, rdx);
            }
            (Some(v), Some(Some(v2))) => {
                self.load(RDX, v)?;
                self.load(RCX, v2)?;
                self.mov_imm(R8, p.oi);
                self.mov_imm(R9, p.pc);
                self.call_saving(qk_st2 as *const () as usize);
            }
            (None, _) => {
                self.mov_imm(RDX, p.oi);
                self.mov_imm(RCX, p.pc);
                self.call_saving(qk_ld as *const () as usize);
                if p.dest != RAX {
                    dynasm!(self.a ; .arch x64 ; mov Rq(p.dest), rax);
                }
            }
            (Some(v), _) => {
                self.load(RDX, v)?;
                self.mov_imm(RCX, p.oi);
                self.mov_imm(R8, p.pc);
                self.call_saving(qk_st as *const () as usize);
            }
        }
        self.check_fault();
        dynasm!(self.a ; .arch x64 ; jmp =>p.done);
        self.frozen = false;
        Ok(())
    }

    /// The softmmu TLB hit test for the guest address in `rsi`: jumps to `slow` on a miss
    /// (or an entry whose flag bits send the access to the slow path), else leaves the
    /// entry's addend (guest address to host address) in `rdx`. Clobbers rax, rcx.
    fn tlb_probe(&mut self, m: MemOp, mmu: usize, tag: usize, slow: DynamicLabel) {
        self.tlb_probe_span(m, m.bytes() as u64, mmu, tag, slow);
    }

    /// [`Self::tlb_probe`] for `span` bytes from the address (an access of `m`, or a pair
    /// of them).
    fn tlb_probe_span(&mut self, m: MemOp, span: u64, mmu: usize, tag: usize, slow: DynamicLabel) {
        let fast = (ENV_TLB + ((mmu % NB_MMU_MODES) << TLBF_SIZE_LOG2)) as i32;
        let s_mask = m.bytes() as u64 - 1;
        let a_mask = if m.aligned() { s_mask } else { 0 };
        // The access's last byte must be in the page too.
        let last = (span - 1 - a_mask) as i32;
        let cmp_mask = (PAGE_MASK | a_mask) as i32;
        dynasm!(self.a
            ; .arch x64
            ; mov rdx, rsi
            ; shr rdx, (PAGE_BITS - TLBE_SIZE_LOG2) as i8
        );
        self.rm(true, opc::AND, RDX, RBX, fast + TLBF_MASK as i32);
        self.rm(true, opc::ADD, RDX, RBX, fast + TLBF_TABLE as i32);
        self.rm(true, opc::LEA, RCX, RSI, last);
        dynasm!(self.a ; .arch x64 ; and rcx, cmp_mask);
        self.rm(true, opc::CMP, RCX, RDX, tag as i32);
        dynasm!(self.a ; .arch x64 ; jne =>slow);
        self.rm(true, opc::MOV_LOAD, RDX, RDX, TLBE_ADDEND as i32);
    }

    /// `lookup_goto pc, flags, mmu`: jumps to the TB the vCPU's jump cache names for the
    /// pc if its entry is for this pc, its guest code is what the code TLB maps the pc to
    /// now, its flags match and it is alive (see `softmmu::jmp`); falls through otherwise.
    fn lookup_goto(&mut self, op: &Op) -> Result<(), BackendError> {
        use softmmu::jmp::*;
        let flags = Self::c(op, 0)?;
        let mmu = (Self::c(op, 1)? as usize) % NB_MMU_MODES;
        let miss = self.a.new_dynamic_label();
        let fast = (ENV_TLB + (mmu << TLBF_SIZE_LOG2)) as i32;
        self.load(RSI, Self::i(op, 0)?)?;
        dynasm!(self.a
            ; .arch x64
            // rdi = jump cache entry of pc
            ; mov rdi, rsi
            ; shr rdi, 2
            ; mov rax, rsi
            ; shr rax, (2 + JMP_BITS) as i8
            ; xor rdi, rax
            ; and edi, (JMP_SIZE - 1) as i32
            ; shl rdi, JMPE_SIZE_LOG2 as i8
            ; add rdi, [rbx + ENV_JMP_TABLE as i32]
            ; cmp rsi, [rdi + JMPE_PC as i32]
            ; jne =>miss
            // The code TLB entry of pc maps its page to the guest code the key names.
            ; mov rdx, rsi
            ; shr rdx, (PAGE_BITS - TLBE_SIZE_LOG2) as i8
            ; and rdx, [rbx + fast + TLBF_MASK as i32]
            ; add rdx, [rbx + fast + TLBF_TABLE as i32]
            ; mov rcx, rsi
            ; and rcx, PAGE_MASK as i32
            ; cmp rcx, [rdx + TLBE_ADDR_CODE as i32]
            ; jne =>miss
            ; mov rcx, [rdx + TLBE_ADDEND as i32]
            ; add rcx, rsi
        );
        self.mov_imm(RAX, flags << JMP_KEY_FLAGS_SHIFT);
        dynasm!(self.a
            ; .arch x64
            ; or rcx, rax
            ; cmp rcx, [rdi + JMPE_KEY as i32]
            ; jne =>miss
            // Alive: no CELL_DEAD in its cell's flag word.
            ; mov rax, [rdi + JMPE_AUX as i32]
            ; mov rcx, [rax + crate::CELL_FLAGS_OFFSET as i32]
            ; test ecx, crate::CELL_DEAD as i32
            ; jnz =>miss
            ; mov rax, [rdi + JMPE_CODE as i32]
        );
        if self.shared {
            // Quick code with the shared frame: its inner entry, the frame kept.
            let outer = self.a.new_dynamic_label();
            dynasm!(self.a
                ; .arch x64
                ; test ecx, crate::CELL_SHARED as i32
                ; jz =>outer
                ; add rax, INNER_ENTRY as i32
                ; jmp rax
                ; =>outer
            );
        }
        self.epilogue();
        dynasm!(self.a
            ; .arch x64
            ; jmp rax
            ; =>miss
        );
        Ok(())
    }

    fn alu(&mut self, op: &Op) -> Result<(), BackendError> {
        use Opc::*;
        let w = op.ty == Type::I64;
        let (a, b) = (Self::i(op, 0)?, Self::i(op, 1)?);
        if self.alu_in_place(op, a, b)? || self.add_lea(op, a, b)? {
            return Ok(());
        }
        let d = Self::o(op, 0)?;
        if self.claimable(d) {
            // The second operand first: loading it may take a cache slot.
            let imm = self.imm(b, op.ty);
            let ry = match imm {
                Some(_) => RAX,
                None => self.src_reg(b)?,
            };
            if let Some(k) = self.claim(&[a, b]) {
                let c = CACHE_REGS[k];
                self.load(c, a)?;
                self.cache[k] = None;
                self.alu_emit(op.opc, w, c, imm, ry);
                return self.store(d, c);
            }
        }
        self.load(RAX, a)?;
        let digit = match op.opc {
            Add => Some(0),
            Or => Some(1),
            And => Some(4),
            Sub => Some(5),
            Xor => Some(6),
            _ => None,
        };
        if let (Some(i), Some(digit)) = (self.imm(b, op.ty), digit) {
            if i == i as i8 as i32 {
                self.imm8_op(w, digit, i as i8);
                return self.store(Self::o(op, 0)?, RAX);
            }
        }
        if let Some(i) = self.imm(b, op.ty) {
            match (op.opc, w) {
                (Add, true) => dynasm!(self.a ; .arch x64 ; add rax, i),
                (Add, false) => dynasm!(self.a ; .arch x64 ; add eax, i),
                (Sub, true) => dynasm!(self.a ; .arch x64 ; sub rax, i),
                (Sub, false) => dynasm!(self.a ; .arch x64 ; sub eax, i),
                (And, true) => dynasm!(self.a ; .arch x64 ; and rax, i),
                (And, false) => dynasm!(self.a ; .arch x64 ; and eax, i),
                (Or, true) => dynasm!(self.a ; .arch x64 ; or rax, i),
                (Or, false) => dynasm!(self.a ; .arch x64 ; or eax, i),
                (Xor, true) => dynasm!(self.a ; .arch x64 ; xor rax, i),
                (Xor, false) => dynasm!(self.a ; .arch x64 ; xor eax, i),
                (_, true) => dynasm!(self.a ; .arch x64 ; imul rax, rax, i),
                (_, false) => dynasm!(self.a ; .arch x64 ; imul eax, eax, i),
            }
        } else {
            let rb = self.src_reg(b)?;
            match (op.opc, w) {
                (Add, true) => dynasm!(self.a ; .arch x64 ; add rax, Rq(rb)),
                (Add, false) => dynasm!(self.a ; .arch x64 ; add eax, Rd(rb)),
                (Sub, true) => dynasm!(self.a ; .arch x64 ; sub rax, Rq(rb)),
                (Sub, false) => dynasm!(self.a ; .arch x64 ; sub eax, Rd(rb)),
                (And, true) => dynasm!(self.a ; .arch x64 ; and rax, Rq(rb)),
                (And, false) => dynasm!(self.a ; .arch x64 ; and eax, Rd(rb)),
                (Or, true) => dynasm!(self.a ; .arch x64 ; or rax, Rq(rb)),
                (Or, false) => dynasm!(self.a ; .arch x64 ; or eax, Rd(rb)),
                (Xor, true) => dynasm!(self.a ; .arch x64 ; xor rax, Rq(rb)),
                (Xor, false) => dynasm!(self.a ; .arch x64 ; xor eax, Rd(rb)),
                (_, true) => dynasm!(self.a ; .arch x64 ; imul rax, Rq(rb)),
                (_, false) => dynasm!(self.a ; .arch x64 ; imul eax, Rd(rb)),
            }
        }
        self.store(Self::o(op, 0)?, RAX)
    }

    /// The cache slot holding `t` if the current op may overwrite it: no later op reads
    /// `t` (a global's value stays in env, which stores write through), `t` is not the
    /// op's other input, and no memory path has the cache frozen.
    fn dead_in_cache(&self, t: Temp, other: Temp) -> Option<usize> {
        if t == other {
            return None;
        }
        self.dead_cached(t)
    }

    /// [`dead_in_cache`](Self::dead_in_cache) for a one-input op.
    fn dead_cached(&self, t: Temp) -> Option<usize> {
        if self.frozen || self.uses.get(t.index()).copied().unwrap_or(1) != 0 {
            return None;
        }
        self.cache.iter().position(|&c| c == Some(t))
    }

    /// A one-input op in the cache register of its input when no later op reads the input
    /// (extensions, `neg`, `not`); false (nothing emitted) otherwise.
    fn unary_in_place(&mut self, op: &Op) -> Result<bool, BackendError> {
        use Opc::*;
        let a = Self::i(op, 0)?;
        let Some(k) = self.dead_cached(a) else {
            return Ok(false);
        };
        let c = CACHE_REGS[k];
        match (op.opc, op.ty == Type::I64) {
            (Ext32u | ExtuI32I64 | ExtrlI64I32, _) | (Ext32s, false) => {
                dynasm!(self.a ; .arch x64 ; mov Rd(c), Rd(c))
            }
            (Ext32s, true) | (ExtsI32I64, _) => dynasm!(self.a ; .arch x64 ; movsxd Rq(c), Rd(c)),
            (Ext8u, _) => dynasm!(self.a ; .arch x64 ; movzx Rd(c), Rb(c)),
            (Ext16u, _) => dynasm!(self.a ; .arch x64 ; movzx Rd(c), Rw(c)),
            (Neg, true) => dynasm!(self.a ; .arch x64 ; neg Rq(c)),
            (Neg, false) => dynasm!(self.a ; .arch x64 ; neg Rd(c)),
            (Not, true) => dynasm!(self.a ; .arch x64 ; not Rq(c)),
            (Not, false) => dynasm!(self.a ; .arch x64 ; not Rd(c)),
            _ => return Ok(false),
        }
        self.cache[k] = None;
        self.dirty[k] = false;
        self.store(Self::o(op, 0)?, c)?;
        Ok(true)
    }

    /// `ext32u` of a 64-bit global neither cached nor in `rax`: one 32-bit load from env
    /// (which zero-extends) instead of a load and a `mov eax, eax`.
    fn ext32u_from_env(&mut self, op: &Op) -> Result<bool, BackendError> {
        let a = Self::i(op, 0)?;
        let at = self.a.offset().0;
        let in_rax = self
            .clean
            .is_some_and(|(o, c)| o == at && c.contains(&Some(a)));
        if op.opc != Opc::Ext32u || in_rax || self.cache.contains(&Some(a)) {
            return Ok(false);
        }
        let Loc::Env(off, false) = self.loc(a)? else {
            return Ok(false);
        };
        dynasm!(self.a ; .arch x64 ; mov eax, [rbx + off]);
        self.store(Self::o(op, 0)?, RAX)?;
        Ok(true)
    }

    /// `c = c op y` (`imm`, else register `ry`) for the ALU ops of [`Gen::alu`].
    fn alu_emit(&mut self, opc: Opc, w: bool, c: u8, imm: Option<i32>, ry: u8) {
        use Opc::*;
        if let Some(i) = imm.filter(|&i| i == i as i8 as i32) {
            // The 8-bit immediate forms (`0x83 /digit ib`).
            let digit = match opc {
                Add => Some(0u8),
                Or => Some(1),
                And => Some(4),
                Sub => Some(5),
                Xor => Some(6),
                _ => None,
            };
            if let Some(digit) = digit {
                let rex = 0x40 | (w as u8) << 3 | (c >> 3 & 1);
                if rex != 0x40 {
                    self.a.push(rex);
                }
                self.a
                    .extend([0x83, 0xc0 | digit << 3 | (c & 7), i as i8 as u8]);
                return;
            }
        }
        match (imm, opc, w) {
            (Some(i), Add, true) => dynasm!(self.a ; .arch x64 ; add Rq(c), i),
            (Some(i), Add, false) => dynasm!(self.a ; .arch x64 ; add Rd(c), i),
            (Some(i), Sub, true) => dynasm!(self.a ; .arch x64 ; sub Rq(c), i),
            (Some(i), Sub, false) => dynasm!(self.a ; .arch x64 ; sub Rd(c), i),
            (Some(i), And, true) => dynasm!(self.a ; .arch x64 ; and Rq(c), i),
            (Some(i), And, false) => dynasm!(self.a ; .arch x64 ; and Rd(c), i),
            (Some(i), Or, true) => dynasm!(self.a ; .arch x64 ; or Rq(c), i),
            (Some(i), Or, false) => dynasm!(self.a ; .arch x64 ; or Rd(c), i),
            (Some(i), Xor, true) => dynasm!(self.a ; .arch x64 ; xor Rq(c), i),
            (Some(i), Xor, false) => dynasm!(self.a ; .arch x64 ; xor Rd(c), i),
            (Some(i), _, true) => dynasm!(self.a ; .arch x64 ; imul Rq(c), Rq(c), i),
            (Some(i), _, false) => dynasm!(self.a ; .arch x64 ; imul Rd(c), Rd(c), i),
            (None, Add, true) => dynasm!(self.a ; .arch x64 ; add Rq(c), Rq(ry)),
            (None, Add, false) => dynasm!(self.a ; .arch x64 ; add Rd(c), Rd(ry)),
            (None, Sub, true) => dynasm!(self.a ; .arch x64 ; sub Rq(c), Rq(ry)),
            (None, Sub, false) => dynasm!(self.a ; .arch x64 ; sub Rd(c), Rd(ry)),
            (None, And, true) => dynasm!(self.a ; .arch x64 ; and Rq(c), Rq(ry)),
            (None, And, false) => dynasm!(self.a ; .arch x64 ; and Rd(c), Rd(ry)),
            (None, Or, true) => dynasm!(self.a ; .arch x64 ; or Rq(c), Rq(ry)),
            (None, Or, false) => dynasm!(self.a ; .arch x64 ; or Rd(c), Rd(ry)),
            (None, Xor, true) => dynasm!(self.a ; .arch x64 ; xor Rq(c), Rq(ry)),
            (None, Xor, false) => dynasm!(self.a ; .arch x64 ; xor Rd(c), Rd(ry)),
            (None, _, true) => dynasm!(self.a ; .arch x64 ; imul Rq(c), Rq(ry)),
            (None, _, false) => dynasm!(self.a ; .arch x64 ; imul Rd(c), Rd(ry)),
        }
    }

    /// `d = x op y` computed in the cache register of an input no later op reads (`x`,
    /// or `y` for a commutative op), which then holds `d`: no copies through `rax`.
    fn alu_in_place(&mut self, op: &Op, a: Temp, b: Temp) -> Result<bool, BackendError> {
        use Opc::*;
        let w = op.ty == Type::I64;
        let commutative = matches!(op.opc, Add | And | Or | Xor | Mul);
        let pick = match self.dead_in_cache(a, b) {
            Some(k) => Some((k, a, b)),
            None if commutative => self.dead_in_cache(b, a).map(|k| (k, b, a)),
            None => None,
        };
        let Some((k, x, y)) = pick else {
            return Ok(false);
        };
        let imm = self.imm(y, op.ty);
        let ry = match imm {
            Some(_) => RAX,
            None => self.src_reg(y)?,
        };
        // Loading `y` may have taken the slot.
        if self.cache[k] != Some(x) {
            return Ok(false);
        }
        let c = CACHE_REGS[k];
        self.clock += 1;
        self.stamp[k] = self.clock;
        self.alu_emit(op.opc, w, c, imm, ry);
        // The old value is dead: nothing to spill; `store` names what the register holds.
        self.cache[k] = None;
        self.dirty[k] = false;
        self.store(Self::o(op, 0)?, c)?;
        Ok(true)
    }

    /// `add` of a cached value and a constant or another cached value as one `lea` into
    /// `rax` (the low 32 bits, zero-extended, for I32), instead of a copy and an add.
    fn add_lea(&mut self, op: &Op, a: Temp, b: Temp) -> Result<bool, BackendError> {
        if op.opc != Opc::Add || self.frozen {
            return Ok(false);
        }
        let w = op.ty == Type::I64;
        let at = self.a.offset().0;
        let in_rax = |g: &Self, t: Temp| {
            g.clean
                .is_some_and(|(o, c)| o == at && c.contains(&Some(t)))
        };
        if in_rax(self, a) || in_rax(self, b) {
            return Ok(false);
        }
        let ca = match self.cached(a) {
            Some(ka) => CACHE_REGS[ka],
            None => match self.load_kept(a, &[a, b])? {
                Some(c) => c,
                None => return Ok(false),
            },
        };
        let imm = self.imm(b, op.ty);
        let cb = match imm {
            Some(_) => RAX,
            None => match self.cached(b) {
                Some(kb) => CACHE_REGS[kb],
                None => match self.load_kept(b, &[a, b])? {
                    Some(c) => c,
                    None => return Ok(false),
                },
            },
        };
        // Into a cache register when a later op reads the sum.
        let d = Self::o(op, 0)?;
        let r = if self.claimable(d) {
            self.claim(&[a, b]).map_or(RAX, |k| CACHE_REGS[k])
        } else {
            RAX
        };
        match (imm, w) {
            (Some(i), true) => dynasm!(self.a ; .arch x64 ; lea Rq(r), [Rq(ca) + i]),
            (Some(i), false) => dynasm!(self.a ; .arch x64 ; lea Rd(r), [Rq(ca) + i]),
            (None, true) => dynasm!(self.a ; .arch x64 ; lea Rq(r), [Rq(ca) + Rq(cb)]),
            (None, false) => dynasm!(self.a ; .arch x64 ; lea Rd(r), [Rq(ca) + Rq(cb)]),
        }
        self.store(d, r)?;
        Ok(true)
    }

    /// An operand `t` a later op reads again, not cached: loaded into a cache register of
    /// its own (none holding a temp of `keep`), so the result need not overwrite it and
    /// the later read need not load it again. `None` for constants, for values no later
    /// op reads, and when no register is free.
    fn load_kept(&mut self, t: Temp, keep: &[Temp]) -> Result<Option<u8>, BackendError> {
        if !self.claimable(t) || matches!(self.loc(t)?, Loc::Imm(_)) {
            return Ok(None);
        }
        let Some(k) = self.claim(keep) else {
            return Ok(None);
        };
        let c = CACHE_REGS[k];
        self.load(c, t)?;
        Ok(Some(c))
    }

    /// `c = c shift n` for the shift and rotate ops.
    fn shift_imm(&mut self, opc: Opc, w: bool, c: u8, n: i8) {
        use Opc::*;
        match (opc, w) {
            (Shl, true) => dynasm!(self.a ; .arch x64 ; shl Rq(c), n),
            (Shl, false) => dynasm!(self.a ; .arch x64 ; shl Rd(c), n),
            (Shr, true) => dynasm!(self.a ; .arch x64 ; shr Rq(c), n),
            (Shr, false) => dynasm!(self.a ; .arch x64 ; shr Rd(c), n),
            (Sar, true) => dynasm!(self.a ; .arch x64 ; sar Rq(c), n),
            (Sar, false) => dynasm!(self.a ; .arch x64 ; sar Rd(c), n),
            (Rotl, true) => dynasm!(self.a ; .arch x64 ; rol Rq(c), n),
            (Rotl, false) => dynasm!(self.a ; .arch x64 ; rol Rd(c), n),
            (_, true) => dynasm!(self.a ; .arch x64 ; ror Rq(c), n),
            (_, false) => dynasm!(self.a ; .arch x64 ; ror Rd(c), n),
        }
    }

    /// Shifts and rotates: x86 masks the count to the operand width, as the IR does.
    fn shift(&mut self, op: &Op) -> Result<(), BackendError> {
        use Opc::*;
        let w = op.ty == Type::I64;
        let (a, b) = (Self::i(op, 0)?, Self::i(op, 1)?);
        if let (Some(k), Some(v)) = (self.dead_in_cache(a, b), self.f.const_value(b)) {
            // In place in the cache register of `a`, which no later op reads.
            let c = CACHE_REGS[k];
            self.shift_imm(op.opc, w, c, (v % op.ty.bits() as u64) as i8);
            self.cache[k] = None;
            self.dirty[k] = false;
            return self.store(Self::o(op, 0)?, c);
        }
        let d = Self::o(op, 0)?;
        if let Some(v) = self.f.const_value(b).filter(|_| self.claimable(d)) {
            if let Some(k) = self.claim(&[a]) {
                // In a fresh cache register (a later op reads the result).
                let c = CACHE_REGS[k];
                self.load(c, a)?;
                self.cache[k] = None;
                self.shift_imm(op.opc, w, c, (v % op.ty.bits() as u64) as i8);
                return self.store(d, c);
            }
        }
        self.load(RAX, a)?;
        if let Some(v) = self.f.const_value(b) {
            let n = (v % op.ty.bits() as u64) as i8;
            match (op.opc, w) {
                (Shl, true) => dynasm!(self.a ; .arch x64 ; shl rax, n),
                (Shl, false) => dynasm!(self.a ; .arch x64 ; shl eax, n),
                (Shr, true) => dynasm!(self.a ; .arch x64 ; shr rax, n),
                (Shr, false) => dynasm!(self.a ; .arch x64 ; shr eax, n),
                (Sar, true) => dynasm!(self.a ; .arch x64 ; sar rax, n),
                (Sar, false) => dynasm!(self.a ; .arch x64 ; sar eax, n),
                (Rotl, true) => dynasm!(self.a ; .arch x64 ; rol rax, n),
                (Rotl, false) => dynasm!(self.a ; .arch x64 ; rol eax, n),
                (_, true) => dynasm!(self.a ; .arch x64 ; ror rax, n),
                (_, false) => dynasm!(self.a ; .arch x64 ; ror eax, n),
            }
        } else {
            self.load(RCX, b)?;
            match (op.opc, w) {
                (Shl, true) => dynasm!(self.a ; .arch x64 ; shl rax, cl),
                (Shl, false) => dynasm!(self.a ; .arch x64 ; shl eax, cl),
                (Shr, true) => dynasm!(self.a ; .arch x64 ; shr rax, cl),
                (Shr, false) => dynasm!(self.a ; .arch x64 ; shr eax, cl),
                (Sar, true) => dynasm!(self.a ; .arch x64 ; sar rax, cl),
                (Sar, false) => dynasm!(self.a ; .arch x64 ; sar eax, cl),
                (Rotl, true) => dynasm!(self.a ; .arch x64 ; rol rax, cl),
                (Rotl, false) => dynasm!(self.a ; .arch x64 ; rol eax, cl),
                (_, true) => dynasm!(self.a ; .arch x64 ; ror rax, cl),
                (_, false) => dynasm!(self.a ; .arch x64 ; ror eax, cl),
            }
        }
        // A 32-bit shift by 0 leaves the upper half as it was: zero, as I32 values are.
        self.store(Self::o(op, 0)?, RAX)
    }

    /// Division and remainder with the IR's results where x86 would trap: by 0 the
    /// quotient is 0 and the remainder the dividend; signed MIN / -1 is MIN rem 0 (any
    /// value / -1 is its negation, rem 0, so -1 takes that path too).
    fn div(&mut self, op: &Op) -> Result<(), BackendError> {
        let w = op.ty == Type::I64;
        let rem = matches!(op.opc, Opc::Rem | Opc::Remu);
        let signed = matches!(op.opc, Opc::Div | Opc::Rem);
        self.load(RAX, Self::i(op, 0)?)?;
        self.load(RCX, Self::i(op, 1)?)?;
        let special = self.a.new_dynamic_label();
        let done = self.a.new_dynamic_label();
        match (signed, w) {
            // b + 1 <= 1 (unsigned): b is 0 or -1.
            (true, true) => dynasm!(self.a
                ; .arch x64
                ; lea rdx, [rcx + 1]
                ; cmp rdx, 1
                ; jbe =>special
                ; cqo
                ; idiv rcx
            ),
            (true, false) => dynasm!(self.a
                ; .arch x64
                ; lea edx, [rcx + 1]
                ; cmp edx, 1
                ; jbe =>special
                ; cdq
                ; idiv ecx
            ),
            (false, true) => dynasm!(self.a
                ; .arch x64
                ; test rcx, rcx
                ; jz =>special
                ; xor edx, edx
                ; div rcx
            ),
            (false, false) => dynasm!(self.a
                ; .arch x64
                ; test ecx, ecx
                ; jz =>special
                ; xor edx, edx
                ; div ecx
            ),
        }
        if rem {
            dynasm!(self.a ; .arch x64 ; mov rax, rdx);
        }
        dynasm!(self.a ; .arch x64 ; jmp =>done ; =>special);
        if signed {
            // b == -1: the negation (wrapping), remainder 0.
            let zero = self.a.new_dynamic_label();
            dynasm!(self.a ; .arch x64 ; test rcx, rcx ; jz =>zero);
            match (rem, w) {
                (true, _) => dynasm!(self.a ; .arch x64 ; xor eax, eax),
                (false, true) => dynasm!(self.a ; .arch x64 ; neg rax),
                (false, false) => dynasm!(self.a ; .arch x64 ; neg eax),
            }
            dynasm!(self.a ; .arch x64 ; jmp =>done ; =>zero);
        }
        // b == 0: quotient 0, remainder the dividend (still in rax).
        if !rem {
            dynasm!(self.a ; .arch x64 ; xor eax, eax);
        }
        dynasm!(self.a ; .arch x64 ; =>done);
        self.store(Self::o(op, 0)?, RAX)
    }

    /// A vector op: its descriptor goes after the code; `qk_vec` runs it.
    fn vec_op(&mut self, op: &Op) -> Result<(), BackendError> {
        let desc = vec_desc(op)?;
        let l = self.a.new_dynamic_label();
        self.data.push((l, desc));
        match op.iargs.first() {
            Some(&t) => self.load(RDX, t)?,
            None => dynasm!(self.a ; .arch x64 ; xor edx, edx),
        }
        dynasm!(self.a
            ; .arch x64
            ; mov rdi, rbx
            ; lea rsi, [=>l]
        );
        self.call(qk_vec as *const () as usize);
        if let Some(&d) = op.oargs.first() {
            self.store(d, RAX)?;
        }
        Ok(())
    }
}

/// Bytes of a vector op descriptor: opcode (u16), shape, condition, source count, flags
/// (1: shuffle), 2 spare, the shift count (u64), four env offsets (u32), the shuffle mask.
const VEC_DESC_BYTES: usize = 48;

fn vec_desc(op: &Op) -> Result<[u8; VEC_DESC_BYTES], BackendError> {
    let vector::VecParams {
        shape,
        envs,
        cond,
        imm,
        mask,
    } = vector::params(op).map_err(|e| match e {
        vector::VecParamsError::Invalid(m) => bad(m),
        vector::VecParamsError::NoSemantics(o) => {
            BackendError::Compile(format!("no semantics for {}", o.name()))
        }
    })?;
    let mut d = [0u8; VEC_DESC_BYTES];
    d[0..2].copy_from_slice(&(op.opc as u16).to_le_bytes());
    d[2] = shape.carg() as u8;
    d[3] = cond as u8;
    d[4] = envs.len() as u8 - 1;
    d[5] = mask.is_some() as u8;
    d[8..16].copy_from_slice(&imm.to_le_bytes());
    for (k, o) in envs.iter().enumerate() {
        d[16 + 4 * k..20 + 4 * k].copy_from_slice(&o.to_le_bytes());
    }
    d[32..48].copy_from_slice(&mask.unwrap_or(0).to_le_bytes());
    Ok(d)
}

// The functions generated code calls. Every argument comes from the compiler (constants)
// or from guest values, which they treat as data.

fn memop_of(oi: u64) -> (MemOp, u8) {
    (MemOp(oi as u8), (oi >> 8) as u8)
}

/// # Safety
/// `env` is the vCPU's live environment (generated code passes its own).
unsafe extern "C" fn qk_ld(env: *mut EnvHead, addr: u64, oi: u64, pc: u64) -> u64 {
    let (m, mmu) = memop_of(oi);
    // SAFETY: caller contract.
    unsafe { softmmu::access::load(env, addr, m, mmu, pc) }
}

/// # Safety
/// As [`qk_ld`].
unsafe extern "C" fn qk_st(env: *mut EnvHead, addr: u64, v: u64, oi: u64, pc: u64) {
    let (m, mmu) = memop_of(oi);
    // SAFETY: caller contract.
    unsafe { softmmu::access::store(env, addr, v, m, mmu, pc) }
}

/// Two values, returned in `rax` and `rdx`.
#[repr(C)]
struct Two(u64, u64);

/// A pair of loads (the slow path of [`Gen::mem_pair`]): the element at `addr`, then the
/// next one; after a fault on the first the second is not tried.
///
/// # Safety
/// As [`qk_ld`].
unsafe extern "C" fn qk_ld2(env: *mut EnvHead, addr: u64, oi: u64, pc: u64) -> Two {
    let (m, mmu) = memop_of(oi);
    // SAFETY: caller contract.
    let a = unsafe { softmmu::access::load(env, addr, m, mmu, pc) };
    // SAFETY: caller contract; `env` is a live EnvHead.
    if unsafe { (*env).fault } != 0 {
        return Two(a, 0);
    }
    let next = addr.wrapping_add(m.bytes() as u64);
    // SAFETY: caller contract.
    Two(a, unsafe { softmmu::access::load(env, next, m, mmu, pc) })
}

/// A pair of stores, in order; after a fault on the first the second is not tried.
///
/// # Safety
/// As [`qk_ld`].
unsafe extern "C" fn qk_st2(env: *mut EnvHead, addr: u64, a: u64, b: u64, oi: u64, pc: u64) {
    let (m, mmu) = memop_of(oi);
    // SAFETY: caller contract.
    unsafe { softmmu::access::store(env, addr, a, m, mmu, pc) };
    // SAFETY: caller contract; `env` is a live EnvHead.
    if unsafe { (*env).fault } == 0 {
        let next = addr.wrapping_add(m.bytes() as u64);
        // SAFETY: caller contract.
        unsafe { softmmu::access::store(env, next, b, m, mmu, pc) }
    }
}

/// # Safety
/// As [`qk_ld`].
unsafe extern "C" fn qk_cmpxchg(
    env: *mut EnvHead,
    addr: u64,
    cmp: u64,
    new: u64,
    oi: u64,
    pc: u64,
) -> u64 {
    let (m, mmu) = memop_of(oi);
    // SAFETY: caller contract.
    unsafe { softmmu::access::cmpxchg(env, addr, cmp, new, m, mmu, pc) }
}

/// # Safety
/// As [`qk_ld`].
unsafe extern "C" fn qk_rmw(env: *mut EnvHead, addr: u64, v: u64, oi: u64, pc: u64) -> u64 {
    let (m, mmu) = memop_of(oi);
    let Some(op) = RmwOp::from_u64(oi >> 16) else {
        return 0;
    };
    // SAFETY: caller contract.
    unsafe { softmmu::access::rmw(env, op, addr, v, m, mmu, pc) }
}

/// Whether the host has LZCNT, TZCNT (BMI1) and POPCNT.
fn bit_count_insns() -> bool {
    std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("popcnt")
}

/// The rare pure ops: `code` is the opcode with bit 16 set for I64.
extern "C" fn qk_pure(code: u64, a: u64, b: u64) -> u64 {
    let ty = if code >> 16 & 1 != 0 {
        Type::I64
    } else {
        Type::I32
    };
    let Some(&opc) = Opc::ALL.get((code & 0xffff) as usize) else {
        return 0;
    };
    if opc.def().nb_iargs == 2 {
        semantics::eval_binary(opc, ty, a, b).unwrap_or(0)
    } else {
        semantics::eval_unary(opc, ty, a).unwrap_or(0)
    }
}

/// Runs the vector op `desc` describes (see [`vec_desc`]); returns the saturation flag
/// of the saturating ops.
///
/// # Safety
/// `env` is the vCPU's environment and `desc` a descriptor [`vec_desc`] made for it (its
/// offsets are inside env).
unsafe extern "C" fn qk_vec(env: *mut u8, desc: *const [u8; VEC_DESC_BYTES], scalar: u64) -> u64 {
    // SAFETY: caller contract.
    let d = unsafe { &*desc };
    let u32_at = |k: usize| u32::from_le_bytes([d[k], d[k + 1], d[k + 2], d[k + 3]]);
    let (Some(&opc), Some(shape)) = (
        Opc::ALL.get(u16::from_le_bytes([d[0], d[1]]) as usize),
        VecShape::from_carg(d[2] as u64),
    ) else {
        return 0;
    };
    let cond = Cond::from_u64(d[3] as u64).unwrap_or(Cond::Eq);
    let nsrc = (d[4] as usize).min(3);
    let imm = u64::from_le_bytes(d[8..16].try_into().unwrap_or([0; 8]));
    let offs = [u32_at(16), u32_at(20), u32_at(24), u32_at(28)];
    let rd = |o: u32| -> u128 {
        // SAFETY: the descriptor's offsets name 16-byte operands inside env.
        u128::from_le_bytes(unsafe { (env.add(o as usize) as *const [u8; 16]).read_unaligned() })
    };
    let mut srcs = [0u128; 3];
    for (s, &o) in srcs.iter_mut().zip(&offs[1..]).take(nsrc) {
        *s = rd(o);
    }
    let (res, sat) = if d[5] & 1 != 0 {
        let mask = u128::from_le_bytes(d[32..48].try_into().unwrap_or([0; 16]));
        (vector::shuffle(shape, srcs[0], srcs[1], mask), false)
    } else if let Some((r, s)) = vector::eval_sat(opc, shape, srcs[0], srcs[1]) {
        (r, s)
    } else {
        (
            vector::eval(opc, shape, cond, imm, &srcs[..nsrc], scalar).unwrap_or(0),
            false,
        )
    };
    // SAFETY: as above.
    unsafe { (env.add(offs[0] as usize) as *mut [u8; 16]).write_unaligned(res.to_le_bytes()) };
    sat as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_their_fields() {
        let op = Op {
            opc: Opc::VShli,
            ty: Type::I64,
            oargs: Default::default(),
            iargs: Default::default(),
            cargs: [VecShape::new(2, true).carg(), 0x100, 0x110, 7]
                .into_iter()
                .collect(),
        };
        let d = vec_desc(&op).unwrap();
        assert_eq!(u16::from_le_bytes([d[0], d[1]]), Opc::VShli as u16);
        assert_eq!(d[4], 1);
        assert_eq!(u64::from_le_bytes(d[8..16].try_into().unwrap()), 7);
        assert_eq!(u32::from_le_bytes(d[16..20].try_into().unwrap()), 0x100);
        assert_eq!(u32::from_le_bytes(d[20..24].try_into().unwrap()), 0x110);
    }
}
