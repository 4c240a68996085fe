//! The A64 side of `-d` logging: `in_asm` disassembly, `cpu` register dumps and `int`
//! exception records, in formats close to QEMU's.

use crate::except::{ec, Kind};
use crate::state::CpuEnv;
use std::fmt::Write as _;

/// `in_asm` lines for the instruction words `code` starting at guest `pc`.
pub fn disas_block(out: &mut String, pc: u64, code: &[u8]) {
    for (i, w) in code.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let at = pc.wrapping_add(4 * i as u64);
        let insn = arm_decode::decode(word);
        vcpu_sched::trace::in_asm_line(out, at, word, &insn.display_at(at));
    }
}

/// PSTATE as a word (SPSR layout: NZCV, DAIF, M[3:0]).
fn pstate(env: &CpuEnv) -> u64 {
    crate::except::pstate(env)
}

/// `-d cpu`: PC, X0-X30, SP, then PSTATE with its flags and mode, four registers a line
/// as QEMU prints them.
pub fn dump_state(out: &mut String, env: &CpuEnv) {
    let _ = write!(out, " PC={:016x} ", env.pc);
    for i in 0..32 {
        if i == 31 {
            let _ = write!(out, " SP={:016x}", env.sp);
        } else {
            let _ = write!(out, "X{i:02}={:016x}", env.x[i]);
        }
        out.push(if i % 4 == 3 { '\n' } else { ' ' });
    }
    let p = pstate(env);
    let flag = |bit: u32, c: char| if p >> bit & 1 != 0 { c } else { '-' };
    let _ = writeln!(
        out,
        "PSTATE={p:08x} {}{}{}{} EL{}{}",
        flag(31, 'N'),
        flag(30, 'Z'),
        flag(29, 'C'),
        flag(28, 'V'),
        env.el,
        if env.spsel & 1 != 0 { 'h' } else { 't' }
    );
}

/// The name QEMU's `int` log gives an exception.
pub fn exception_name(kind: Kind, esr: Option<u64>) -> &'static str {
    match kind {
        Kind::Irq => "IRQ",
        Kind::Fiq => "FIQ",
        Kind::SError => "SError",
        Kind::Sync => match esr.map_or(ec::UNKNOWN, |e| e >> 26) {
            ec::UNKNOWN => "UNDEF",
            ec::SVC64 => "SVC",
            ec::BRK64 => "BKPT",
            ec::IABORT_LOWER | ec::IABORT_SAME => "Prefetch Abort",
            ec::DABORT_LOWER | ec::DABORT_SAME => "Data Abort",
            ec::PC_ALIGN => "PC Alignment",
            ec::SP_ALIGN => "SP Alignment",
            ec::ILLEGAL_STATE => "Illegal Execution State",
            ec::SYSREG => "System Register Trap",
            ec::FP_ACCESS => "FP Access Trap",
            ec::WFX => "WFx Trap",
            _ => "Synchronous",
        },
    }
}

/// What an exception entry did, for the `int` record.
pub struct Taken {
    pub cpu: usize,
    pub kind: Kind,
    pub from_el: u64,
    pub esr: Option<u64>,
    pub far: Option<u64>,
}

/// `-d int`: the record of an exception just taken; `env` is the state after entry.
pub fn exception_record(out: &mut String, t: &Taken, env: &CpuEnv) {
    use crate::sysregs::slot;
    let _ = writeln!(
        out,
        "Taking exception [{}] on CPU {}",
        exception_name(t.kind, t.esr),
        t.cpu
    );
    let _ = writeln!(out, "...from EL{} to EL{}", t.from_el, env.el);
    if let Some(e) = t.esr {
        let _ = writeln!(out, "...with ESR {:#x}/{e:#010x}", e >> 26);
    }
    if let Some(f) = t.far {
        let _ = writeln!(out, "...with FAR {f:#x}");
    }
    let _ = writeln!(out, "...with SPSR {:#x}", env.sysregs[slot::SPSR]);
    let _ = writeln!(out, "...with ELR {:#x}", env.sysregs[slot::ELR]);
    let _ = writeln!(
        out,
        "...to EL{} PC {:#x} PSTATE {:#x}",
        env.el,
        env.pc,
        pstate(env)
    );
}

/// `-d mmu`: one line for a page-table walk a TLB miss made on CPU `cpu`: the virtual
/// address, the access and the EL it is checked for, then the physical address, the size
/// and level of the page or block, the permissions and the MAIR attribute byte; or the
/// fault the access takes (`result`), with the level it was found at.
pub fn mmu_record(
    out: &mut String,
    cpu: usize,
    vaddr: u64,
    access: softmmu::Access,
    el0: bool,
    walk: &Result<crate::mmu::Walk, u8>,
    result: &Result<softmmu::Translation, u8>,
) {
    use crate::mmu::fsc;
    let what = match access {
        softmmu::Access::Read => "read",
        softmmu::Access::Write => "write",
        softmmu::Access::Exec => "exec",
    };
    let _ = write!(
        out,
        "mmu: cpu {cpu} EL{} {what} va {vaddr:#018x} -> ",
        u8::from(!el0)
    );
    match (walk, result) {
        (Ok(w), Ok(_)) => {
            let size = match w.size_log2 {
                b @ 30.. => format!("{}G", 1u64 << (b - 30)),
                b @ 20.. => format!("{}M", 1u64 << (b - 20)),
                b => format!("{}K", 1u64 << (b.saturating_sub(10))),
            };
            let p = |f: softmmu::Perms, c: char| if w.perms.contains(f) { c } else { '-' };
            let _ = write!(out, "pa {:#x}", w.pa);
            if w.mmu_off {
                let _ = writeln!(out, " (MMU off)");
            } else {
                let _ = writeln!(
                    out,
                    " {size} {} level {} {}{}{} attr {:#04x}{}",
                    if w.level == 3 { "page" } else { "block" },
                    w.level,
                    p(softmmu::Perms::READ, 'r'),
                    p(softmmu::Perms::WRITE, 'w'),
                    p(softmmu::Perms::EXEC, 'x'),
                    w.mair_attr,
                    if w.not_global { " nG" } else { "" }
                );
            }
        }
        (_, Err(f)) => {
            let kind = match fsc::kind(*f) {
                fsc::ADDRESS_SIZE => "address size fault",
                fsc::TRANSLATION => "translation fault",
                fsc::ACCESS_FLAG => "access flag fault",
                fsc::PERMISSION => "permission fault",
                fsc::EXTERNAL_ABORT_ON_WALK => "external abort on the walk",
                _ => "fault",
            };
            let _ = writeln!(out, "{kind}, level {} (FSC {f:#04x})", fsc::level(*f));
        }
        (Err(f), Ok(_)) => {
            // Cannot happen (the access check follows the walk); say what was seen.
            let _ = writeln!(out, "inconsistent walk (FSC {f:#04x})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::except;

    #[test]
    fn in_asm_lines_match_objdump_text() {
        // From hello.dis: mrs x9, mpidr_el1 / and x9, x9, #0xff / b.cs 0x40080060.
        let words: [u32; 3] = [0xd53800a9, 0x92401d29, 0x540002a2];
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut s = String::new();
        disas_block(&mut s, 0x4008_0004, &code);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "0x0000000040080004:  d53800a9      mrs x9, mpidr_el1"
        );
        assert_eq!(
            lines[1],
            "0x0000000040080008:  92401d29      and x9, x9, #0xff"
        );
        // Branch targets print as absolute addresses, relative to each word's own pc.
        assert!(
            lines[2].starts_with("0x000000004008000c:  540002a2      b.cs 40080060"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn register_dump() {
        let mut e = Box::new(CpuEnv::new(std::ptr::null()));
        e.pc = 0x4008_0000;
        e.x[0] = 0x1234;
        e.x[30] = 0xdead;
        e.sp = 0x400a_1000;
        e.el = 1;
        e.spsel = 1;
        e.daif = 0x3c0;
        e.zf = 0; // Z set
        let mut s = String::new();
        dump_state(&mut s, &e);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 9, "{s}");
        assert_eq!(
            lines[0],
            " PC=0000000040080000 X00=0000000000001234 X01=0000000000000000 \
             X02=0000000000000000 X03=0000000000000000"
        );
        assert!(
            lines[7].ends_with("X30=000000000000dead  SP=00000000400a1000"),
            "{}",
            lines[7]
        );
        assert_eq!(lines[8], "PSTATE=400003c5 -Z-- EL1h");
    }

    #[test]
    fn mmu_records() {
        use crate::mmu::{fsc, Walk};
        use softmmu::{Access, Perms, Translation};
        let w = Walk {
            pa: 0x4123_4567,
            perms: Perms::READ | Perms::WRITE,
            mair_attr: 0xff,
            sh: 3,
            not_global: true,
            level: 3,
            size_log2: 12,
            mmu_off: false,
        };
        let t = Ok(Translation {
            paddr_page: 0x4123_4000,
            perms: w.perms,
            attrs: 0xff,
        });
        let mut s = String::new();
        mmu_record(
            &mut s,
            1,
            0xffff_0000_0123_4567,
            Access::Write,
            true,
            &Ok(w),
            &t,
        );
        assert_eq!(
            s,
            "mmu: cpu 1 EL0 write va 0xffff000001234567 -> pa 0x41234567 4K page level 3 \
             rw- attr 0xff nG\n"
        );
        let block = Walk {
            level: 2,
            size_log2: 21,
            not_global: false,
            perms: Perms::all(),
            ..w
        };
        s.clear();
        mmu_record(&mut s, 0, 0x1000, Access::Exec, false, &Ok(block), &t);
        assert!(s.ends_with("2M block level 2 rwx attr 0xff\n"), "{s}");
        s.clear();
        let f = fsc::permission(3);
        mmu_record(&mut s, 0, 0x1000, Access::Exec, false, &Ok(block), &Err(f));
        assert_eq!(
            s,
            "mmu: cpu 0 EL1 exec va 0x0000000000001000 -> permission fault, level 3 (FSC 0x0f)\n"
        );
        s.clear();
        let f = fsc::translation(1);
        mmu_record(&mut s, 0, 0x1000, Access::Read, false, &Err(f), &Err(f));
        assert!(
            s.ends_with("-> translation fault, level 1 (FSC 0x05)\n"),
            "{s}"
        );
        let off = Walk { mmu_off: true, ..w };
        s.clear();
        mmu_record(&mut s, 0, 0x4000_0000, Access::Read, false, &Ok(off), &t);
        assert!(s.ends_with("-> pa 0x41234567 (MMU off)\n"), "{s}");
    }

    #[test]
    fn exception_records() {
        let mut e = Box::new(CpuEnv::new(std::ptr::null()));
        e.sysregs[crate::sysregs::slot::VBAR] = 0x4008_0800;
        e.el = 0;
        e.spsel = 0;
        e.daif = 0;
        let esr = except::esr(ec::DABORT_LOWER, 0x10);
        except::take(&mut e, Kind::Sync, Some(esr), Some(0x100), 0x1000);
        let t = Taken {
            cpu: 3,
            kind: Kind::Sync,
            from_el: 0,
            esr: Some(esr),
            far: Some(0x100),
        };
        let mut s = String::new();
        exception_record(&mut s, &t, &e);
        assert_eq!(
            s,
            "Taking exception [Data Abort] on CPU 3\n...from EL0 to EL1\n\
             ...with ESR 0x24/0x92000010\n...with FAR 0x100\n...with SPSR 0x0\n\
             ...with ELR 0x1000\n...to EL1 PC 0x40080c00 PSTATE 0x3c5\n"
        );
        assert_eq!(exception_name(Kind::Irq, None), "IRQ");
        assert_eq!(
            exception_name(Kind::Sync, Some(except::esr(ec::SVC64, 0))),
            "SVC"
        );
        assert_eq!(exception_name(Kind::Sync, Some(0)), "UNDEF");
    }
}
