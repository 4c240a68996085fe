//! QEMU-style `-d` logging: which items are on, one process-wide log sink, and the text
//! formats shared by the execution loop, the guest CPU and the board.
//!
//! The tracer is installed once per process ([`install`]) before the machine runs; code
//! that may log asks [`get`] (an atomic load) and checks the items it logs for. The
//! execution loop reads it once per slice, so with tracing off the hot loop sees one
//! predictable branch per TB entered from the loop and nothing per guest instruction.
//!
//! Each record (a TB's disassembly, one exec line with its register dump, an exception)
//! is formatted into a `String` first and written with one `write_all` under the sink's
//! mutex, so records from different vCPU threads never interleave mid-line.

use crate::cpu::TbKey;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

bitflags::bitflags! {
    /// The `-d` items.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Items: u32 {
        const OUT_ASM = 1 << 0;
        const IN_ASM = 1 << 1;
        const OP = 1 << 2;
        const OP_OPT = 1 << 3;
        const INT = 1 << 4;
        const EXEC = 1 << 5;
        const CPU = 1 << 6;
        const UNIMP = 1 << 7;
        const GUEST_ERRORS = 1 << 8;
        const NOCHAIN = 1 << 9;
        const MMU = 1 << 10;
        /// Logged when a TB is translated.
        const TRANSLATION = Self::OUT_ASM.bits() | Self::IN_ASM.bits() | Self::OP.bits()
            | Self::OP_OPT.bits();
        /// Logged when the loop enters a TB.
        const ENTRY = Self::EXEC.bits() | Self::CPU.bits();
    }
}

/// Every item: its `-d` name, and what it logs (for `-d help`).
pub const ITEMS: &[(&str, Items, &str)] = &[
    (
        "out_asm",
        Items::OUT_ASM,
        "the x86-64 code the JIT made for each TB (tiered: when a TB's hot code is \
         installed)",
    ),
    (
        "in_asm",
        Items::IN_ASM,
        "the guest instructions of each newly translated TB, disassembled",
    ),
    (
        "op",
        Items::OP,
        "each new TB's IR as the translator emitted it",
    ),
    ("op_opt", Items::OP_OPT, "each new TB's IR after tcg-opt"),
    (
        "int",
        Items::INT,
        "every exception and interrupt a vCPU takes: kind, ELs, ESR, FAR, ELR, target",
    ),
    (
        "exec",
        Items::EXEC,
        "one line per TB the execution loop enters (with nochain: every TB; very verbose)",
    ),
    (
        "cpu",
        Items::CPU,
        "the general registers, PC and PSTATE at each logged TB entry (very verbose)",
    ),
    (
        "unimp",
        Items::UNIMP,
        "instructions we do not implement (the guest gets UNDEF)",
    ),
    (
        "guest_errors",
        Items::GUEST_ERRORS,
        "guest mistakes we can see: accesses to unmapped physical addresses (taken as \
         external aborts)",
    ),
    (
        "mmu",
        Items::MMU,
        "every page-table walk a TLB miss makes: virtual address, access, EL, and the \
         physical page, size, level and permissions, or the translation fault",
    ),
    (
        "nochain",
        Items::NOCHAIN,
        "no TB-to-TB chaining and no inline jump-cache hits, so exec and cpu see every TB",
    ),
];

/// Parses `-d`'s comma-separated list (without `help`, see [`wants_help`]).
pub fn parse_items(spec: &str) -> Result<Items, String> {
    let mut items = Items::empty();
    for name in spec.split(',') {
        match ITEMS.iter().find(|(n, _, _)| *n == name) {
            Some((_, i, _)) => items |= *i,
            None => {
                return Err(format!(
                    "-d {name}: unknown log item (known: {}; `-d help` lists them)",
                    ITEMS
                        .iter()
                        .map(|(n, _, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
    Ok(items)
}

/// Whether `-d`'s list asks for the list of items.
pub fn wants_help(spec: &str) -> bool {
    spec.split(',').any(|i| i == "help")
}

/// The text `-d help` prints.
pub fn help_text() -> String {
    let mut s = String::from("Log items (comma separated):\n");
    for (name, _, what) in ITEMS {
        let _ = writeln!(s, "{name:<15} {what}");
    }
    s
}

/// The log: which items are on and where records go.
pub struct Tracer {
    items: Items,
    sink: Mutex<Box<dyn Write + Send>>,
}

impl Tracer {
    /// Records go to `sink` (buffer it: records are written whole, flushed by
    /// [`flush`](Self::flush)).
    pub fn new(items: Items, sink: Box<dyn Write + Send>) -> Tracer {
        Tracer {
            items,
            sink: Mutex::new(sink),
        }
    }

    pub fn items(&self) -> Items {
        self.items
    }

    /// Whether any of `items` is on.
    #[inline]
    pub fn has(&self, items: Items) -> bool {
        self.items.intersects(items)
    }

    /// Writes one record (whole lines) without interleaving with other threads' records.
    pub fn write(&self, record: &str) {
        let mut g = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        // A log that cannot be written is not worth stopping the guest for.
        let _ = g.write_all(record.as_bytes());
    }

    pub fn flush(&self) {
        let mut g = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let _ = g.flush();
    }
}

static TRACER: OnceLock<Tracer> = OnceLock::new();

/// Installs the process's tracer (before any vCPU runs). False if one was installed.
pub fn install(t: Tracer) -> bool {
    TRACER.set(t).is_ok()
}

/// The process's tracer, if one was installed.
#[inline]
pub fn get() -> Option<&'static Tracer> {
    TRACER.get()
}

/// The tracer if any of `items` is on.
#[inline]
pub fn enabled(items: Items) -> Option<&'static Tracer> {
    get().filter(|t| t.has(items))
}

/// Flushes the installed tracer's buffered records.
pub fn flush() {
    if let Some(t) = get() {
        t.flush();
    }
}

/// A guest-error / unimplemented-feature message (one line, no newline): to the tracer if
/// one is installed, else to standard error (in-process users without `-d`).
pub fn guest_message(line: &str) {
    match get() {
        Some(t) => t.write(&format!("{line}\n")),
        None => eprintln!("{line}"),
    }
}

/// `in_asm`'s header for the TB at `key` translated on vCPU `cpu` (QEMU's `IN:` block).
pub fn in_asm_header(out: &mut String, cpu: usize, key: &TbKey) {
    let _ = writeln!(
        out,
        "----------------\nIN: cpu {cpu} pc {:#018x} (phys {:#x}, flags {:#x})",
        key.pc, key.phys_pc, key.flags
    );
}

/// One guest instruction of an `in_asm` block: address, word, disassembly.
pub fn in_asm_line(out: &mut String, pc: u64, word: u32, text: &dyn std::fmt::Display) {
    let _ = writeln!(out, "{pc:#018x}:  {word:08x}      {text}");
}

/// An `op`/`op_opt` block: `title` then the IR's text form, without the declarations of
/// globals (the same CPU-state fields in every TB, dozens of lines).
pub fn ir_block(out: &mut String, title: &str, func: &tcg_ir::Func) {
    let _ = writeln!(out, "{title}:");
    for line in func.to_string().lines() {
        if !line.starts_with("global ") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
}

/// An `out_asm` block for native code `code` (at its host address) of the TB at `pc`;
/// `what` says why it is logged (translation, hot code installed).
pub fn out_asm_block(out: &mut String, pc: Option<u64>, what: &str, code: &[u8]) {
    let _ = write!(out, "OUT: [size={}]", code.len());
    if let Some(pc) = pc {
        let _ = write!(out, " pc {pc:#018x}");
    }
    let _ = writeln!(out, "{what}");
    disas_host(out, code.as_ptr() as u64, code);
    out.push('\n');
}

/// Host instructions of `code` (loaded at `addr`), one per line: address, bytes, text.
#[cfg(target_arch = "x86_64")]
pub fn disas_host(out: &mut String, addr: u64, code: &[u8]) {
    use iced_x86::{Decoder, DecoderOptions, Formatter, GasFormatter, Instruction};
    let mut dec = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut fmt = GasFormatter::new();
    fmt.options_mut().set_uppercase_hex(false);
    let mut insn = Instruction::default();
    let mut text = String::new();
    while dec.can_decode() {
        dec.decode_out(&mut insn);
        text.clear();
        fmt.format(&insn, &mut text);
        let start = (insn.ip() - addr) as usize;
        let bytes = code.get(start..start + insn.len()).unwrap_or_default();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "{:#018x}:  {hex:<20} {text}", insn.ip());
    }
}

/// Without a disassembler for this host: the bytes, 16 per line.
#[cfg(not(target_arch = "x86_64"))]
pub fn disas_host(out: &mut String, addr: u64, code: &[u8]) {
    for (i, chunk) in code.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "{:#018x}:  {}", addr + 16 * i as u64, hex.join(" "));
    }
}

/// `exec`'s line for vCPU `cpu` entering the TB at `key`, whose native code starts at
/// `host` (`None`: it runs in the interpreter). Like QEMU's
/// `Trace cpu: host [cs_base/pc/flags]`, with the physical pc in cs_base's place.
pub fn exec_line(out: &mut String, cpu: usize, key: &TbKey, host: Option<u64>) {
    let _ = write!(out, "Trace {cpu}: ");
    match host {
        Some(h) => {
            let _ = write!(out, "{h:#x}");
        }
        None => out.push_str("interp"),
    }
    let _ = writeln!(
        out,
        " [{:016x}/{:016x}/{:08x}]",
        key.phys_pc, key.pc, key.flags
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn items_parse_like_qemu() {
        assert_eq!(
            parse_items("in_asm,op,op_opt,out_asm"),
            Ok(Items::TRANSLATION)
        );
        assert_eq!(
            parse_items("exec,nochain,cpu,int"),
            Ok(Items::EXEC | Items::NOCHAIN | Items::CPU | Items::INT)
        );
        assert_eq!(
            parse_items("unimp,guest_errors,mmu"),
            Ok(Items::UNIMP | Items::GUEST_ERRORS | Items::MMU)
        );
        let e = parse_items("in_asm,page").unwrap_err();
        assert!(
            e.contains("-d page: unknown log item") && e.contains("in_asm"),
            "{e}"
        );
        assert!(parse_items("").is_err());
        assert!(parse_items("exec,").is_err());
        assert!(wants_help("help") && wants_help("exec,help") && !wants_help("exec"));
        // Every item is named once in the help, and parses by that name.
        let h = help_text();
        for (name, item, _) in ITEMS {
            assert_eq!(parse_items(name), Ok(*item));
            assert_eq!(
                h.lines()
                    .filter(|l| l.starts_with(&format!("{name} ")))
                    .count(),
                1,
                "{name}"
            );
        }
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn records_from_threads_stay_whole() {
        let buf = Shared::default();
        let t = Arc::new(Tracer::new(Items::EXEC, Box::new(buf.clone())));
        assert!(t.has(Items::EXEC) && !t.has(Items::INT) && t.has(Items::ENTRY));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let t = t.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        t.write(&format!("{}\n{}\n", "a".repeat(50 + i), "b".repeat(50 + i)));
                    }
                })
            })
            .collect();
        for h in threads {
            h.join().unwrap();
        }
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4 * 200 * 2);
        for pair in lines.chunks(2) {
            assert_eq!(pair[0].len(), pair[1].len());
            assert!(pair[0].bytes().all(|b| b == b'a') && pair[1].bytes().all(|b| b == b'b'));
        }
    }

    const KEY: TbKey = TbKey {
        pc: 0x4008_0000,
        phys_pc: 0x4008_0000,
        flags: 0x5,
    };

    #[test]
    fn in_asm_and_exec_formats() {
        let mut s = String::new();
        in_asm_header(&mut s, 1, &KEY);
        in_asm_line(&mut s, 0x4008_0000, 0xd53800a9, &"mrs x9, mpidr_el1");
        assert_eq!(
            s,
            "----------------\nIN: cpu 1 pc 0x0000000040080000 (phys 0x40080000, flags 0x5)\n\
             0x0000000040080000:  d53800a9      mrs x9, mpidr_el1\n"
        );
        let mut s = String::new();
        exec_line(&mut s, 0, &KEY, Some(0x7f00_1234));
        exec_line(&mut s, 2, &KEY, None);
        assert_eq!(
            s,
            "Trace 0: 0x7f001234 [0000000040080000/0000000040080000/00000005]\n\
             Trace 2: interp [0000000040080000/0000000040080000/00000005]\n"
        );
    }

    #[test]
    fn ir_block_is_the_text_form() {
        let f = tcg_ir::text::parse("global x0:i64 @0\n  add.i64 x0, x0, $1\n  exit_tb 0\n", &[]);
        let f = f.expect("IR parses");
        let mut s = String::new();
        ir_block(&mut s, "OP", &f);
        assert_eq!(s, "OP:\n  add.i64 x0, x0, $0x1\n  exit_tb 0\n\n");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn host_code_disassembles() {
        // mov eax, 1; ret
        let code = [0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3];
        let mut s = String::new();
        out_asm_block(&mut s, Some(0x4008_0000), " (hot)", &code);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "OUT: [size=6] pc 0x0000000040080000 (hot)");
        let a = code.as_ptr() as u64;
        assert_eq!(
            lines[1],
            format!("{a:#018x}:  b801000000           mov $1,%eax")
        );
        assert_eq!(
            lines[2],
            format!("{:#018x}:  c3                   ret", a + 5)
        );
        // A blank line ends the block, as QEMU's.
        assert_eq!(lines[3..], [""]);
    }
}
