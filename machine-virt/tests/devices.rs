//! The board's devices seen from a guest, through the `virt` binary on every combination of
//! back end and scheduler: the generic timer raising its PPI through the GIC and waking a
//! WFI, an SGI from one vCPU waking another, and UART input from standard input taken with
//! the RX interrupt. Guest code is built in-test from instruction words (encodings from
//! aarch64-linux-gnu-as); a wedged guest is killed after a timeout, so a broken wake-up
//! fails the test instead of hanging it.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LOAD: u64 = 0x4008_0000;

/// Enables the GIC for the virtual timer (PPI 27), arms the timer ~16 ms ahead, and sleeps
/// in WFI (PSTATE.I masked: WFI still wakes) until GICC_HPPIR shows the timer; prints "T"
/// and CNTV_CTL (5: ENABLE | ISTATUS), then powers off.
const TIMER: &[u32] = &[
    0xd2a1_0001, // mov x1, #0x8000000
    0x5280_0022, // mov w2, #0x1
    0xb900_0022, // str w2, [x1]
    0x52a1_0002, // mov w2, #0x8000000
    0xb901_0022, // str w2, [x1, #256]
    0xd2a1_0023, // mov x3, #0x8010000
    0x5280_1e02, // mov w2, #0xf0
    0xb900_0462, // str w2, [x3, #4]
    0x5280_0022, // mov w2, #0x1
    0xb900_0062, // str w2, [x3]
    0xd53b_e004, // mrs x4, cntfrq_el0
    0xd346_fc84, // lsr x4, x4, #6
    0xd51b_e304, // msr cntv_tval_el0, x4
    0xd280_0022, // mov x2, #0x1
    0xd51b_e322, // msr cntv_ctl_el0, x2
    0xd503_3fdf, // isb
    0xd503_207f, // wfi
    0xb940_1865, // ldr w5, [x3, #24]
    0x7100_6cbf, // cmp w5, #0x1b
    0x54ff_ffa1, // b.ne 40 <_start+0x40>  // b.any
    0xd53b_e326, // mrs x6, cntv_ctl_el0
    0xd2a1_2007, // mov x7, #0x9000000
    0x5280_0a88, // mov w8, #0x54
    0xb900_00e8, // str w8, [x7]
    0x1100_c0c6, // add w6, w6, #0x30
    0xb900_00e6, // str w6, [x7]
    0x5280_0148, // mov w8, #0xa
    0xb900_00e8, // str w8, [x7]
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16
    0xd400_0002, // hvc #0x0
];

/// CPU 0 enables the distributor, starts CPU 1 with PSCI CPU_ON, waits until CPU 1 says it
/// is about to WFI, waits ~16 ms more and sends SGI 5 to CPU 1 only (GICD_SGIR target
/// list 0b10). CPU 1 enables its CPU interface, sleeps in WFI until GICC_IAR gives an
/// interrupt, EOIs it and prints "S", the SGI number, the source CPU (IAR bits 12:10) and
/// its banked GICD_ITARGETSR0 byte (its own CPU bit, 2), then powers off.
const SGI: &[u32] = &[
    0xd2a1_000a, // mov x10, #0x8000000
    0x5280_0022, // mov w2, #0x1
    0xb900_0142, // str w2, [x10]
    0x5280_0060, // mov w0, #0x3
    0x72b8_8000, // movk w0, #0xc400, lsl #16
    0xd280_0021, // mov x1, #0x1
    0x1000_0202, // adr x2, 58 <secondary>
    0xd280_0003, // mov x3, #0x0
    0xd400_0002, // hvc #0x0
    0xd2a8_040b, // mov x11, #0x40200000
    0xb940_0164, // ldr w4, [x11]
    0x34ff_ffe4, // cbz w4, 28 <_start+0x28>
    0xd53b_e045, // mrs x5, cntvct_el0
    0xd53b_e006, // mrs x6, cntfrq_el0
    0x8b46_18a5, // add x5, x5, x6, lsr #6
    0xd53b_e047, // mrs x7, cntvct_el0
    0xeb05_00ff, // cmp x7, x5
    0x54ff_ffc3, // b.cc 3c <_start+0x3c>  // b.lo, b.ul, b.last
    0x5280_00a2, // mov w2, #0x5
    0x72a0_0042, // movk w2, #0x2, lsl #16
    0xb90f_0142, // str w2, [x10, #3840]
    0x1400_0000, // b 54 <_start+0x54>
    0xd2a1_000a, // mov x10, #0x8000000
    0xd2a1_0023, // mov x3, #0x8010000
    0x5280_1e02, // mov w2, #0xf0
    0xb900_0462, // str w2, [x3, #4]
    0x5280_0022, // mov w2, #0x1
    0xb900_0062, // str w2, [x3]
    0xd2a8_040b, // mov x11, #0x40200000
    0xb900_0162, // str w2, [x11]
    0xd503_207f, // wfi
    0xb940_0c65, // ldr w5, [x3, #12]
    0x710f_fcbf, // cmp w5, #0x3ff
    0x54ff_ffa0, // b.eq 78 <secondary+0x20>  // b.none
    0xb900_1065, // str w5, [x3, #16]
    0xb948_0146, // ldr w6, [x10, #2048]
    0xd2a1_2007, // mov x7, #0x9000000
    0x5280_0a68, // mov w8, #0x53
    0xb900_00e8, // str w8, [x7]
    0x1200_0ca9, // and w9, w5, #0xf
    0x1100_c129, // add w9, w9, #0x30
    0xb900_00e9, // str w9, [x7]
    0x530a_30a9, // ubfx w9, w5, #10, #3
    0x1100_c129, // add w9, w9, #0x30
    0xb900_00e9, // str w9, [x7]
    0x1200_1cc9, // and w9, w6, #0xff
    0x1100_c129, // add w9, w9, #0x30
    0xb900_00e9, // str w9, [x7]
    0x5280_0148, // mov w8, #0xa
    0xb900_00e8, // str w8, [x7]
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16
    0xd400_0002, // hvc #0x0
];

/// Turns the UART on with FIFOs, unmasks its RX and RX-timeout interrupts, routes SPI 1
/// (INTID 33) through the GIC, then: WFI until GICC_IAR has an interrupt, echo every byte
/// in the RX FIFO, EOI; at 'q' print a newline and power off.
const RX_ECHO: &[u32] = &[
    0xd2a1_2007, // mov x7, #0x9000000
    0x5280_0e02, // mov w2, #0x70
    0xb900_2ce2, // str w2, [x7, #44]
    0x5280_6022, // mov w2, #0x301
    0xb900_30e2, // str w2, [x7, #48]
    0x5280_0a02, // mov w2, #0x50
    0xb900_38e2, // str w2, [x7, #56]
    0xd2a1_0001, // mov x1, #0x8000000
    0x5280_0022, // mov w2, #0x1
    0xb900_0022, // str w2, [x1]
    0x5280_0042, // mov w2, #0x2
    0xb901_0422, // str w2, [x1, #260]
    0xd2a1_0023, // mov x3, #0x8010000
    0x5280_1e02, // mov w2, #0xf0
    0xb900_0462, // str w2, [x3, #4]
    0x5280_0022, // mov w2, #0x1
    0xb900_0062, // str w2, [x3]
    0xd503_207f, // wfi
    0xb940_0c65, // ldr w5, [x3, #12]
    0x710f_fcbf, // cmp w5, #0x3ff
    0x54ff_ffa0, // b.eq 44 <_start+0x44>  // b.none
    0xb940_18e6, // ldr w6, [x7, #24]
    0x3720_0146, // tbnz w6, #4, 80 <_start+0x80>
    0xb940_00e8, // ldr w8, [x7]
    0xb900_00e8, // str w8, [x7]
    0x7101_c51f, // cmp w8, #0x71
    0x54ff_ff61, // b.ne 54 <_start+0x54>  // b.any
    0x5280_0148, // mov w8, #0xa
    0xb900_00e8, // str w8, [x7]
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16
    0xd400_0002, // hvc #0x0
    0xb900_1065, // str w5, [x3, #16]
    0x17ff_fff0, // b 44 <_start+0x44>
];

/// An ELF holding `code` at `LOAD`.
fn elf(code: &[u32]) -> Vec<u8> {
    let payload: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    machine_virt::loader::minimal_elf(LOAD, &payload, payload.len() as u64)
}

fn write_temp(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("virt-devices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

const COMBOS: [(&str, &str); 6] = [
    ("jit", "rr"),
    ("jit", "mttcg"),
    ("interp", "rr"),
    ("interp", "mttcg"),
    ("tiered", "rr"),
    ("tiered", "mttcg"),
];

struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `virt` with `args`, feeding `input` on standard input; kills it after `limit`.
fn virt(args: &[&str], input: &[u8], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_virt"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    drop(stdin);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

fn run_all(code: &[u32], name: &str, extra: &[&str], input: &[u8], expect: &str) {
    let k = write_temp(name, &elf(code));
    let k = k.to_str().unwrap();
    let runs: Vec<_> = COMBOS
        .iter()
        .map(|(b, s)| {
            let mut args = vec!["--kernel", k, "--backend", b, "--sched", s];
            args.extend_from_slice(extra);
            let input = input.to_vec();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let combo = format!("{b}/{s}");
            std::thread::spawn(move || {
                let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
                (combo, virt(&a, &input, Duration::from_secs(60)))
            })
        })
        .collect();
    for r in runs {
        let (combo, run) = r.join().unwrap();
        assert_eq!(
            run.status,
            Some(0),
            "{combo} (None: killed after the timeout): stdout {:?}, stderr {}",
            run.stdout,
            run.stderr
        );
        assert_eq!(run.stdout, expect, "{combo}: {}", run.stderr);
    }
}

#[test]
fn virtual_timer_ppi_wakes_wfi_through_the_gic() {
    run_all(TIMER, "timer.elf", &[], b"", "T5\n");
}

#[test]
fn sgi_from_cpu0_wakes_cpu1_with_its_source() {
    run_all(SGI, "sgi.elf", &["--smp", "2"], b"", "S502\n");
}

#[test]
fn sgi_reaches_its_target_among_four_cpus() {
    run_all(SGI, "sgi4.elf", &["--smp", "4"], b"", "S502\n");
}

#[test]
fn stdin_reaches_the_guest_through_the_uart_rx_interrupt() {
    run_all(RX_ECHO, "rx.elf", &[], b"hello, uart!q", "hello, uart!q\n");
}
