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
            &["-M", "virt,gic-version=3"][..],
            "gic-version=3 is not supported yet",
        ),
        (&["-M", "virt,its=off"], "unsupported -machine property its"),
        (&["-cpu", "cortex-a15"], "-cpu cortex-a15 is not supported"),
        (&["-d", "in_asm"], "-d in_asm is not supported yet"),
        (&["-gdb", "tcp::1234"], "-gdb is not supported yet"),
        (&["-s"], "-s is not supported yet"),
        (&["-S"], "-S is not supported yet"),
        (&["-enable-kvm"], "-enable-kvm"),
        (&["-serial", "pty"], "-serial pty"),
    ] {
        let mut a = vec!["-kernel", ks];
        a.extend_from_slice(args);
        let out = virt(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
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
