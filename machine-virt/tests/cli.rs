//! The `virt` binary as a user meets it: exit statuses and messages for good guests, guest
//! errors (UNDEF, aborts: exceptions in the guest) and bad input. Guest code is built in-test from instruction
//! words (encodings from aarch64-linux-gnu-as), so no cross toolchain is needed.

use std::path::PathBuf;
use std::process::{Command, Output};

const LOAD: u64 = 0x4008_0000;

/// "Hi\n" through the PL011, then PSCI SYSTEM_OFF.
const HI: &[u32] = &[
    0xd2a1_2001, // mov x1, #0x9000000
    0x5280_0902, // mov w2, #'H'
    0xb900_0022, // str w2, [x1]
    0x5280_0d22, // mov w2, #'i'
    0xb900_0022, // str w2, [x1]
    0x5280_0142, // mov w2, #'\n'
    0xb900_0022, // str w2, [x1]
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16   (SYSTEM_OFF)
    0xd400_0002, // hvc #0
];
/// Sets VBAR_EL1 to `LOAD + 0x800`, whose "current EL, SPx, synchronous" entry powers
/// the machine off (see [`with_vectors`]).
const SET_VBAR: &[u32] = &[
    0xd2a8_0100, // mov x0, #0x40080000
    0x9120_0000, // add x0, x0, #0x800
    0xd518_c000, // msr vbar_el1, x0
    0xd503_3fdf, // isb
];
const UNDEF: &[u32] = &[
    0xd282_4680, /* mov x0, #0x1234 */
    0x0000_0000, /* udf #0 */
];
const WILD_LOAD: &[u32] = &[
    0xd280_2000, /* mov x0, #0x100 */
    0xf940_0001, /* ldr x1, [x0] */
];
const SYSTEM_OFF: &[u32] = &[
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16
    0xd400_0002, // hvc #0
];

/// `SET_VBAR`, then `body`, with a synchronous-exception vector that powers off.
fn with_vectors(body: &[u32]) -> Vec<u32> {
    let mut code = SET_VBAR.to_vec();
    code.extend_from_slice(body);
    // VBAR + 0x200: current EL with SP_ELx, synchronous.
    code.resize((0x800 + 0x200) / 4, 0xd503_201f /* nop */);
    code.extend_from_slice(SYSTEM_OFF);
    code
}

/// An ELF holding `code` at `LOAD`.
fn elf(code: &[u32]) -> Vec<u8> {
    let payload: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    machine_virt::loader::minimal_elf(LOAD, &payload, payload.len() as u64)
}

fn write_temp(name: &str, data: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("virt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

fn virt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_virt"))
        .args(args)
        .output()
        .unwrap()
}

const COMBOS: [(&str, &str); 6] = [
    ("jit", "rr"),
    ("jit", "mttcg"),
    ("interp", "rr"),
    ("interp", "mttcg"),
    ("tiered", "rr"),
    ("tiered", "mttcg"),
];

fn run_all(kernel: &std::path::Path, extra: &[&str]) -> Vec<(String, Output)> {
    COMBOS
        .iter()
        .map(|(b, s)| {
            let k = kernel.to_str().unwrap();
            let mut args = vec!["--kernel", k, "--backend", b, "--sched", s];
            args.extend_from_slice(extra);
            (format!("{b}/{s}"), virt(&args))
        })
        .collect()
}

#[test]
fn uart_output_and_system_off_exit_zero_on_every_combination() {
    let k = write_temp("hi.elf", &elf(HI));
    for (combo, out) in run_all(&k, &[]) {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{combo}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"Hi\n", "{combo}");
    }
}

/// An undefined instruction is an exception in the guest (its vector powers off here),
/// logged with `--log-unimp`.
#[test]
fn undefined_instruction_is_a_guest_exception_logged_on_request() {
    let k = write_temp("undef.elf", &elf(&with_vectors(UNDEF)));
    for (combo, out) in run_all(&k, &["--log-unimp"]) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{combo}: {err}");
        assert!(
            err.contains("UNDEF 0x00000000") && err.contains("pc 0x40080014"),
            "{combo}: {err}"
        );
    }
}

/// A load from an address with nothing behind it is a synchronous external abort taken
/// by the guest, never a host crash.
#[test]
fn access_to_nothing_is_a_guest_abort_not_a_crash() {
    let k = write_temp("wild.elf", &elf(&with_vectors(WILD_LOAD)));
    for (combo, out) in run_all(&k, &["--log-unimp"]) {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{combo}: {err}");
        assert!(
            err.contains("address 0x100") && err.contains("pc 0x40080014"),
            "{combo}: {err}"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error_with_status_2() {
    let missing = virt(&["--kernel", "/nonexistent/kernel.elf"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read kernel"));
    // Anything that is not an ELF or an Image is a raw image, but an empty one is an error.
    let empty = write_temp("empty.bin", b"");
    let out = virt(&["--kernel", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the kernel file is empty"));
    let mut truncated = elf(HI);
    truncated.truncate(90);
    let t = write_temp("truncated.elf", &truncated);
    assert_eq!(
        virt(&["--kernel", t.to_str().unwrap()]).status.code(),
        Some(2)
    );
    let k = write_temp("hi2.elf", &elf(HI));
    let ks = k.to_str().unwrap();
    assert_eq!(virt(&["--kernel", ks, "--smp", "0"]).status.code(), Some(2));
    assert_eq!(
        virt(&["--kernel", ks, "--backend", "llvm"]).status.code(),
        Some(2)
    );
    assert_eq!(virt(&["--kernel", ks, "-m", "1T2"]).status.code(), Some(2));
}

/// The instructions of `code` as a raw binary.
fn raw(code: &[u32]) -> Vec<u8> {
    code.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A raw image (not ELF, not an Image) is loaded at RAM + 512 KiB and run.
#[test]
fn raw_image_runs_at_512k_into_ram() {
    let k = write_temp("hi.bin", &raw(HI));
    for (combo, out) in run_all(&k, &[]) {
        assert_eq!(out.status.code(), Some(0), "{combo}");
        assert_eq!(out.stdout, b"Hi\n", "{combo}");
    }
}

/// QEMU's syntax runs the same machine; QEMU options virt lacks are errors naming them.
#[test]
fn qemu_command_line_is_accepted_and_unsupported_options_are_named() {
    let k = write_temp("hi-q.elf", &elf(HI));
    let ks = k.to_str().unwrap();
    let out = virt(&[
        "-M",
        "virt,gic-version=2",
        "-cpu",
        "cortex-a53",
        "-m",
        "size=256M",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "mon:stdio",
        "-smp",
        "2",
        "-accel",
        "tcg,thread=single",
        "-kernel",
        ks,
        "--backend",
        "interp",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Hi\n");
    let serial = std::env::temp_dir().join(format!("virt-cli-serial-{}.txt", std::process::id()));
    let file = format!("file:{}", serial.display());
    let out = virt(&["-kernel", ks, "-serial", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"");
    assert_eq!(std::fs::read(&serial).unwrap(), b"Hi\n");
    let out = virt(&["-kernel", ks, "-serial", "null"]);
    assert_eq!(
        (out.status.code(), out.stdout.as_slice()),
        (Some(0), &b""[..])
    );
    for (args, needle) in [
        (
            &["-M", "virt,gic-version=4"][..],
            "gic-version=4: GICv4 is not supported",
        ),
        (&["-M", "virt,gic-version=3,its=on"], "no ITS"),
        (&["-cpu", "cortex-a15"], "-cpu cortex-a15 is not supported"),
        (&["-d", "in_asm,page"], "-d page: unknown log item"),
        (&["-gdb", "unix:/tmp/gdb.sock"], "only tcp is supported"),
        (&["-gdb", "tcp::x"], "expected a TCP port number"),
        (&["-S"], "needs a GDB stub"),
        (&["-enable-kvm"], "-enable-kvm"),
        (&["-serial", "pty"], "-serial pty"),
        (
            &["-netdev", "socket,id=n0"],
            "-netdev socket is not supported",
        ),
        (&["-device", "virtio-net-device"], "netdev= is required"),
        (
            &["-device", "virtio-rng-device,bogus=1"],
            "unsupported property bogus",
        ),
        (&["-chardev", "pty,id=p"], "-chardev pty is not supported"),
        (&["-drive", "file=/no/such.img,format=qcow2"], "raw only"),
        (
            &["-drive", "file=/no/such.img"],
            "could not open disk image /no/such.img",
        ),
        (
            &["-device", "virtio-blk-device,drive=x"],
            "no -drive with id=x",
        ),
    ] {
        let mut a = vec!["-kernel", ks];
        a.extend_from_slice(args);
        let out = virt(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Too many CPUs for the interrupt controller: the machine does not start.
    for (args, needle) in [
        (
            &["-smp", "9"][..],
            "between 1 and 8 with GICv2; -M virt,gic-version=3",
        ),
        (
            &["-M", "virt,gic-version=3", "-smp", "124"],
            "between 1 and 123",
        ),
    ] {
        let mut a = vec!["-kernel", ks];
        a.extend_from_slice(args);
        let out = virt(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// A GDB stub nobody connects to changes nothing; one that cannot listen is a clear error.
#[test]
fn gdb_stub_without_a_client_and_with_a_busy_port() {
    let k = write_temp("hi-gdb.elf", &elf(HI));
    let ks = k.to_str().unwrap();
    for (b, s) in COMBOS {
        let out = virt(&[
            "-kernel",
            ks,
            "-gdb",
            "tcp::0",
            "--backend",
            b,
            "--sched",
            s,
        ]);
        assert_eq!(out.status.code(), Some(0), "{b}/{s}");
        assert_eq!(out.stdout, b"Hi\n", "{b}/{s}");
    }
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = virt(&["-kernel", ks, "--gdb", &port]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot listen for GDB on 127.0.0.1:"), "{err}");
}

/// "R\n", then PSCI SYSTEM_RESET.
const RESET: &[u32] = &[
    0xd2a1_2001, // mov x1, #0x9000000
    0x5280_0a42, // mov w2, #'R'
    0xb900_0022, // str w2, [x1]
    0x5280_0142, // mov w2, #'\n'
    0xb900_0022, // str w2, [x1]
    0x5280_0120, // mov w0, #0x9
    0x72b0_8000, // movk w0, #0x8400, lsl #16   (SYSTEM_RESET)
    0xd400_0002, // hvc #0
];

/// SYSTEM_RESET reboots the machine (the guest runs again from scratch); with
/// `-no-reboot` it ends the run with status 0, as QEMU.
#[test]
fn system_reset_reboots_unless_no_reboot() {
    use std::io::Read;
    let k = write_temp("reset.bin", &raw(RESET));
    let ks = k.to_str().unwrap();
    let out = virt(&["-kernel", ks, "-no-reboot"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"R\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_virt"))
        .args(["-kernel", ks, "-smp", "2"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut b = [0u8; 64];
        while !seen.starts_with(b"R\nR\nR\n") {
            match stdout.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&b[..n]),
            }
        }
        let _ = tx.send(seen);
    });
    let seen = rx.recv_timeout(std::time::Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let seen = seen.expect("three boots within 60 s");
    assert!(
        seen.starts_with(b"R\nR\nR\n"),
        "{:?}",
        String::from_utf8_lossy(&seen)
    );
}

/// `-d unimp -D FILE`: the log goes to FILE, not to standard error.
#[test]
fn qemu_log_options_write_the_log_file() {
    let k = write_temp("undef-log.elf", &elf(&with_vectors(UNDEF)));
    let log = std::env::temp_dir().join(format!("virt-cli-log-{}.txt", std::process::id()));
    let out = virt(&[
        "-kernel",
        k.to_str().unwrap(),
        "-d",
        "unimp",
        "-D",
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("UNDEF 0x00000000"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("UNDEF"));
}

/// A log file for `name` in this test process's temporary directory.
fn log_path(name: &str) -> PathBuf {
    let p = std::env::temp_dir()
        .join(format!("virt-cli-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    p
}

/// Runs `virt` on `kernel` with `args` and returns its `-D` log.
fn traced(kernel: &std::path::Path, name: &str, args: &[&str]) -> String {
    let log = log_path(name);
    let mut all = vec![
        "-kernel",
        kernel.to_str().unwrap(),
        "-D",
        log.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = virt(&all);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{name}: {err}");
    // The log goes to the file only.
    assert!(err.is_empty(), "{name}: {err}");
    std::fs::read_to_string(&log).unwrap()
}

/// `-d in_asm,op,op_opt,exec,nochain,int -D FILE` on every back end: the guest code of the
/// first TB disassembled as objdump shows it, its IR before and after optimisation, an
/// exec line per TB entered, and the UNDEF exception taken to the vector.
#[test]
fn qemu_d_items_log_translation_execution_and_exceptions() {
    let k = write_temp("trace-undef.elf", &elf(&with_vectors(UNDEF)));
    for backend in ["jit", "interp", "tiered"] {
        let name = format!("trace-{backend}.log");
        let text = traced(
            &k,
            &name,
            &[
                "-d",
                "in_asm,op,op_opt,exec,nochain,int",
                "--backend",
                backend,
            ],
        );
        let has = |s: &str| assert!(text.contains(s), "{backend}: no `{s}` in:\n{text}");
        has("----------------\nIN: cpu 0 pc 0x0000000040080000 (phys 0x40080000, flags ");
        // objdump: `40080000:	d2a80100 	mov	x0, #0x40080000`.
        has("\n0x0000000040080000:  d2a80100      mov x0, #0x40080000\n");
        has("\n0x0000000040080014:  00000000      udf #0\n");
        // The IR before and after tcg-opt (which folds `add x0, x0, #0x800` of a known x0).
        let op = text.find("\nOP:\n").expect("an OP block");
        let opt = text
            .find("\nOP after optimization:\n")
            .expect("an op_opt block");
        assert!(op < opt, "{backend}");
        assert!(text[op..opt].contains("  insn_start 0x40080000\n  mov.i64 x0, $0x40080000\n"));
        assert!(text[op..opt].contains(", x0, $0x800\n"), "{backend}");
        assert!(text[opt..].contains(", $0x40080800\n"), "{backend}");
        has("Trace 0: ");
        has("/0000000040080000/");
        // The exception vector ran, after the exception was logged.
        has("Taking exception [UNDEF] on CPU 0\n...from EL1 to EL1\n...with ESR 0x0/0x02000000\n");
        has("...with ELR 0x40080014\n...to EL1 PC 0x40080a00 PSTATE 0x3c5\n");
        let int_at = text.find("Taking exception").unwrap();
        let vector_at = text
            .find("/0000000040080a00/")
            .expect("an exec line for the vector");
        assert!(int_at < vector_at, "{backend}");
        // Without out_asm no host code is logged; without cpu no registers.
        assert!(
            !text.contains("OUT:") && !text.contains("PSTATE="),
            "{backend}"
        );
    }
}

/// mov x2, #10; loop: subs x2, x2, #1; b.ne loop; then SYSTEM_OFF.
const LOOP: &[u32] = &[
    0xd280_0142, // mov x2, #10
    0xf100_0442, // subs x2, x2, #1
    0x54ff_ffe1, // b.ne 0x40080004
    0x5280_0100, // mov w0, #0x8
    0x72b0_8000, // movk w0, #0x8400, lsl #16
    0xd400_0002, // hvc #0
];

/// `exec` logs TBs entered from the execution loop: a chained loop is logged only until it
/// is chained, with `nochain` every iteration (9 re-entries of the loop's TB).
#[test]
fn nochain_logs_every_tb_and_cpu_dumps_registers() {
    let k = write_temp("trace-loop.elf", &elf(LOOP));
    let loop_entries = |t: &str| t.matches("/0000000040080004/").count();
    for backend in ["jit", "interp", "tiered"] {
        let all = traced(
            &k,
            &format!("loop-nochain-{backend}.log"),
            &["-d", "exec,nochain,cpu", "--backend", backend],
        );
        assert_eq!(loop_entries(&all), 9, "{backend}:\n{all}");
        // Before the last entry of the loop x2 is 1; the dump follows its exec line.
        assert!(all.contains("X00=0000000000000000 X01=0000000000000000 X02=0000000000000001"));
        assert!(
            all.contains("PSTATE=200003c5 --C- EL1h"),
            "{backend}:\n{all}"
        );
        let chained = traced(
            &k,
            &format!("loop-chained-{backend}.log"),
            &["-d", "exec", "--backend", backend],
        );
        let n = loop_entries(&chained);
        assert!((1..9).contains(&n), "{backend}: {n} entries:\n{chained}");
        assert!(!chained.contains("PSTATE"), "{backend}");
    }
}

/// `out_asm`: the JIT's host code at translation; with the tiered back end, when a TB's hot
/// code is installed. No `-d`: nothing is logged.
#[test]
fn out_asm_and_no_log_without_d() {
    let k = write_temp("trace-hi.elf", &elf(HI));
    let jit = traced(&k, "out-jit.log", &["-d", "out_asm", "--backend", "jit"]);
    assert!(
        jit.starts_with("OUT: [size=") && jit.contains("pc 0x0000000040080000\n0x"),
        "{jit}"
    );
    let interp = traced(
        &k,
        "out-interp.log",
        &["-d", "out_asm", "--backend", "interp"],
    );
    assert_eq!(interp, "", "the interpreter has no host code");
    let tiered = traced(
        &k,
        "out-tiered.log",
        &[
            "-d",
            "out_asm",
            "--backend",
            "tiered",
            "--tier-threshold",
            "1",
            "--tier-min-insns",
            "0",
            "--jit-sync",
        ],
    );
    assert!(
        tiered.contains("pc 0x0000000040080000 (tiered: hot code installed)\n0x"),
        "{tiered}"
    );
    let none = traced(&k, "none.log", &["--backend", "jit"]);
    assert_eq!(none, "");
}

/// Turns the MMU on with one 1 GiB block mapping VA = PA 0x4000_0000.. (the L1 table at
/// `LOAD + 0x1000`: T0SZ = 25, 4 KiB granule, start level 1), then loads from the
/// unmapped VA 0x1000: a translation fault at level 1, taken to the vector.
const MMU_ON_FAULT: &[u32] = &[
    0xd280_1fe0, // mov x0, #0xff
    0xd518_a200, // msr mair_el1, x0
    0xd280_0320, // mov x0, #25
    0xb269_0000, // orr x0, x0, #0x800000 (EPD1)
    0xd518_2040, // msr tcr_el1, x0
    0xd2a8_0100, // mov x0, #0x40080000
    0xf282_0000, // movk x0, #0x1000
    0xd518_2000, // msr ttbr0_el1, x0
    0xd503_3fdf, // isb
    0xd538_1000, // mrs x0, sctlr_el1
    0xb240_0000, // orr x0, x0, #0x1
    0xd518_1000, // msr sctlr_el1, x0
    0xd503_3fdf, // isb
    0xd282_0000, // mov x0, #0x1000
    0xf940_0001, // ldr x1, [x0]
];

/// `-d mmu`: every page-table walk of a TLB miss, with the MMU off and on, and the
/// translation fault, on every back end.
#[test]
fn d_mmu_logs_page_walks_and_faults() {
    let mut code = with_vectors(MMU_ON_FAULT);
    code.resize(0x1000 / 4, 0);
    // L1 entry 0: invalid; entry 1: a block at 0x4000_0000, AF, AttrIndx 0, EL1 RWX.
    code.extend_from_slice(&[0, 0, 0x4000_0401, 0]);
    let k = write_temp("mmu-on.elf", &elf(&code));
    for backend in ["jit", "interp", "tiered"] {
        let text = traced(
            &k,
            &format!("mmu-{backend}.log"),
            &["-d", "mmu,int", "--backend", backend],
        );
        let has = |s: &str| assert!(text.contains(s), "{backend}: no `{s}` in:\n{text}");
        has("mmu: cpu 0 EL1 exec va 0x0000000040080000 -> pa 0x40080000 (MMU off)\n");
        has("mmu: cpu 0 EL1 read va 0x0000000000001000 -> translation fault, level 1 (FSC 0x05)\n");
        // With the MMU on, the code page walks to the 1 GiB block.
        has("mmu: cpu 0 EL1 exec va 0x0000000040080000 -> pa 0x40080000 1G block level 1 rwx attr 0xff\n");
        // The walk's fault comes before the exception it raises.
        let fault = text.find("translation fault").unwrap();
        let int = text
            .find("Taking exception [Data Abort]")
            .expect("the data abort");
        assert!(fault < int, "{backend}");
        has("...with ESR 0x25/0x96000005\n...with FAR 0x1000\n");
    }
    // Without the item: no walk is logged.
    let quiet = traced(&k, "mmu-off.log", &["-d", "int"]);
    assert!(!quiet.contains("mmu:"), "{quiet}");
}

#[test]
fn d_help_lists_the_items_and_unknown_items_are_errors() {
    let out = virt(&["-d", "help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for item in [
        "in_asm", "op_opt", "out_asm", "exec", "cpu", "nochain", "int", "mmu", "unimp",
    ] {
        assert!(text.lines().any(|l| l.starts_with(item)), "{item}: {text}");
    }
    let out = virt(&["--trace", "help"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), text);
    let out = virt(&["-kernel", "k.elf", "-d", "in_asm,tb"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-d tb: unknown log item"));
}
