//! The virtio devices under Debian's kernel, compared with QEMU: the busybox initramfs
//! loads Debian's `virtio_mmio`, `virtio_blk`, `virtio-rng` and `virtio_console`
//! modules and runs `/virtio.sh` against three raw disks (a writable one, a
//! `snapshot=on` one and a `readonly=on` one, told apart by their GET_ID serials), the
//! entropy device and a virtconsole (`hvc0`) writing to a file. The script's output must
//! equal QEMU's on the same command line, and afterwards the host files must hold
//! exactly the guest's write (writable disk) or be unchanged (snapshot and read-only
//! disks), and the console file must be QEMU's.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::initramfs;
use crate::linux;
use crate::paths::Paths;
use crate::run::{Backend, Runner, Sched};
use crate::Report;

/// The guest side (`/virtio.sh` in the initramfs).
pub const SCRIPT: &str = r#"echo "=== check begin ==="
for m in virtio_mmio virtio_blk virtio-rng virtio_console; do
    insmod /lib/modules/$m.ko || echo "insmod $m failed"
done
n=0
while { [ ! -b /dev/vdc ] || [ ! -c /dev/hvc0 ]; } && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
for d in /sys/block/vd*; do
    echo "${d##*/} serial=$(cat $d/serial) size=$(cat $d/size) ro=$(cat $d/ro)"
done
disk() { for d in /sys/block/vd*; do [ "$(cat $d/serial)" = "$1" ] && echo /dev/${d##*/}; done; }
M=$(disk main); S=$(disk snap); R=$(disk ro)
md5sum < $M
dd if=$M bs=4096 skip=100 count=3 2>/dev/null | md5sum
printf 'written by the guest\n' | dd of=$M bs=512 seek=3 conv=notrunc,fsync 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
dd if=$M bs=512 skip=3 count=1 2>/dev/null | head -n 1
md5sum < $M
printf 'snapshot write\n' | dd of=$S bs=512 seek=1 conv=notrunc,fsync 2>/dev/null
echo 3 > /proc/sys/vm/drop_caches
dd if=$S bs=512 skip=1 count=1 2>/dev/null | head -n 1
md5sum < $R
if printf x | dd of=$R conv=notrunc 2>/dev/null; then echo "ro write accepted"; else echo "ro write refused"; fi
cat /sys/devices/virtual/misc/hw_random/rng_current
dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c
if dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n' | grep -q '[1-9a-f]'; then
    echo "hwrng not all zero"
fi
echo "hello from hvc0" > /dev/hvc0 && echo "hvc0 written"
cat /sys/class/virtio-ports/vport*/name
echo "=== check end ==="
"#;

/// What the guest writes at sector 3 of the writable disk.
const GUEST_WRITE: &[u8] = b"written by the guest\n";
const MAIN_SIZE: usize = 4 << 20;
const SMALL_SIZE: usize = 1 << 20;

/// A deterministic disk image of `len` bytes (`seed` varies it between disks).
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 13 + i / 4096 + usize::from(seed) * 7) % 256) as u8)
        .collect()
}

struct Images {
    main: PathBuf,
    snap: PathBuf,
    ro: PathBuf,
    console: PathBuf,
}

fn images(dir: &Path, tag: &str) -> Result<Images> {
    std::fs::create_dir_all(dir)?;
    let im = Images {
        main: dir.join(format!("main-{tag}.img")),
        snap: dir.join(format!("snap-{tag}.img")),
        ro: dir.join(format!("ro-{tag}.img")),
        console: dir.join(format!("console-{tag}.txt")),
    };
    let _ = std::fs::remove_file(&im.console);
    std::fs::write(&im.main, pattern(MAIN_SIZE, 1)).context("writing the test disk")?;
    std::fs::write(&im.snap, pattern(SMALL_SIZE, 2)).context("writing the test disk")?;
    std::fs::write(&im.ro, pattern(SMALL_SIZE, 3)).context("writing the test disk")?;
    Ok(im)
}

/// The QEMU options for the devices (the same on QEMU and on `virt`).
fn device_args(im: &Images) -> Vec<String> {
    let d = |id: &str, p: &Path, extra: &str| {
        vec![
            "-drive".to_string(),
            format!("if=none,id={id},file={},format=raw{extra}", p.display()),
            "-device".to_string(),
            format!("virtio-blk-device,drive={id},serial={id}"),
        ]
    };
    // QEMU's virtio-mmio is the legacy layout unless told otherwise; ours is modern.
    let mut v = vec![
        "-global".to_string(),
        "virtio-mmio.force-legacy=false".to_string(),
    ];
    v.extend(d("main", &im.main, ""));
    v.extend(d("snap", &im.snap, ",snapshot=on"));
    v.extend(d("ro", &im.ro, ",readonly=on"));
    v.extend(["-device".to_string(), "virtio-rng-device".to_string()]);
    v.extend([
        "-chardev".to_string(),
        format!("file,id=con,path={}", im.console.display()),
        "-device".to_string(),
        "virtio-serial-device".to_string(),
        "-device".to_string(),
        "virtconsole,chardev=con,name=org.xtask.console".to_string(),
    ]);
    v
}

/// Why the host files are not what the guest left them as (None: they are).
fn check_images(im: &Images) -> Option<String> {
    let mut want = pattern(MAIN_SIZE, 1);
    want[1536..1536 + GUEST_WRITE.len()].copy_from_slice(GUEST_WRITE);
    let problems: Vec<String> = [
        (
            &im.main,
            want,
            "the writable disk does not hold exactly the guest's write",
        ),
        (
            &im.snap,
            pattern(SMALL_SIZE, 2),
            "the snapshot=on disk changed on the host",
        ),
        (
            &im.ro,
            pattern(SMALL_SIZE, 3),
            "the readonly=on disk changed",
        ),
    ]
    .into_iter()
    .filter(|(p, want, _)| std::fs::read(p).ok().as_deref() != Some(&want[..]))
    .map(|(_, _, why)| why.to_string())
    .collect();
    (!problems.is_empty()).then(|| problems.join("\n"))
}

/// The runners the Linux virtio check uses beyond QEMU (a subset of the matrix to keep
/// CI time down: the default back end on MTTCG, and the interpreter round-robin).
pub const RUNNERS: [Runner; 2] = [
    Runner::Virt(Backend::Tiered, Sched::Mttcg),
    Runner::Virt(Backend::Interp, Sched::Rr),
];

pub fn checks(report: &mut Report, paths: &Paths, timeout: Duration) {
    let setup = linux::kernel(paths).and_then(|k| Ok((k, initramfs::initramfs(paths)?)));
    let (kernel, initrd) = match setup {
        Ok(v) => v,
        Err(e) => {
            report.fail("fetch Debian's kernel and busybox", &format!("{e:#}"));
            return;
        }
    };
    let dir = paths.target.join("virtio-test");
    let append = format!("console=ttyAMA0 {}", initramfs::VIRTIO_PARAM);
    // The script's lines, then what the guest wrote to hvc0.
    let run = |runner: Runner| -> Result<(Vec<String>, Duration), String> {
        let im = images(&dir, &runner.label().replace('/', "-")).map_err(|e| format!("{e:#}"))?;
        let mut cmd =
            linux::command_with(runner, &paths.virt(), &kernel, 2, Some(&initrd), &append);
        cmd.args(device_args(&im));
        let boot =
            linux::boot_until(cmd, initramfs::CHECK_END, timeout).map_err(|e| format!("{e:#}"))?;
        let lines = initramfs::check_output(&boot.log).ok_or_else(|| {
            let lines: Vec<&str> = boot.log.lines().collect();
            format!(
                "the virtio script did not finish in {:.1} s; last lines:\n{}",
                boot.elapsed.as_secs_f64(),
                lines[lines.len().saturating_sub(25)..].join("\n")
            )
        })?;
        // The machine is killed once the end marker is out: give the guest's
        // poweroff no part in it (everything was synced before the marker).
        if let Some(why) = check_images(&im) {
            return Err(format!("{why}\nguest output:\n{}", lines.join("\n")));
        }
        let mut lines = lines;
        let console = std::fs::read(&im.console).unwrap_or_default();
        lines.push(format!(
            "(host) console file: {:?}",
            String::from_utf8_lossy(&console)
        ));
        Ok((lines, boot.reached.unwrap_or(boot.elapsed)))
    };
    against_qemu(report, "linux virtio disks, rng and console", run);
}

/// The guest side of the network check (`/net.sh`): DHCP, an HTTP GET from a server on
/// the host's loopback (port from `xtask.httpport=` on the command line), and an HTTP
/// server the host reaches through `hostfwd`; the script ends once the host's server
/// says (`/done`) that the host got the guest's page.
pub const NET_SCRIPT: &str = r#"echo "=== check begin ==="
for m in failover net_failover virtio_mmio virtio_net; do
    insmod /lib/modules/$m.ko || echo "insmod $m failed"
done
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
cat /sys/class/net/eth0/address
ip link set lo up
ip link set eth0 up
if udhcpc -i eth0 -n -q -t 5 -s /udhcpc.sh >/dev/null 2>&1; then echo "dhcp ok"; fi
ip -4 addr show eth0 | grep -o 'inet [0-9./]*'
ip route | grep default | cut -d' ' -f1-3
P=$(sed 's/.*xtask.httpport=\([0-9]*\).*/\1/' /proc/cmdline)
# (busybox 1.35's wget crashes with -T.)
wget -q -O - "http://10.0.2.2:$P/hello" || echo "wget failed"
mkdir -p /www
echo "hello from the guest" > /www/index.html
httpd -f -v -p 8080 -h /www 2>/tmp/httpd.log &
echo "httpd started"
# The host's client retries every 250 ms. Wait until the host's server says it got the
# page (at most 60 s: a slow back end on a loaded host serves it slowly, and a fixed wait
# after httpd logged the connection sometimes ended the script before the answer).
i=0
while [ $i -lt 120 ] && [ "$(wget -q -O - "http://10.0.2.2:$P/done")" != "yes" ]; do
    sleep 0.5; i=$((i+1))
done
echo "=== check end ==="
"#;

/// What the host's HTTP server answers.
const HOST_BODY: &str = "hello from the host\n";

/// A one-answer-per-connection HTTP server on the loopback (stops with `stop`): `/done`
/// answers whether `got` is set (the host's client got the guest's page), anything else
/// [`HOST_BODY`].
fn http_server(
    stop: Arc<AtomicBool>,
    got: Arc<AtomicBool>,
) -> Result<(u16, std::thread::JoinHandle<()>)> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding the test HTTP server")?;
    l.set_nonblocking(true)?;
    let port = l.local_addr()?.port();
    let t = std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut req = [0u8; 1024];
                    let n = s.read(&mut req).unwrap_or(0);
                    let body = if req[..n].starts_with(b"GET /done ") {
                        if got.load(Ordering::SeqCst) {
                            "yes\n"
                        } else {
                            "no\n"
                        }
                    } else {
                        HOST_BODY
                    };
                    let _ = write!(
                        s,
                        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    Ok((port, t))
}

/// Tries `GET /` on 127.0.0.1:`port` (the guest's server through hostfwd) until a
/// body arrives (then sets `got`) or `stop`; returns the last answer.
fn hostfwd_client(
    port: u16,
    stop: Arc<AtomicBool>,
    got: Arc<AtomicBool>,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut last = String::new();
        while !stop.load(Ordering::SeqCst) {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                if let Some((_, body)) = out.split_once("\r\n\r\n") {
                    last = body.to_string();
                    if !last.is_empty() {
                        got.store(true, Ordering::SeqCst);
                        return last;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        last
    })
}

/// A free TCP port on the loopback (bound and released; the emulator binds it next).
/// Runs `run` on QEMU, then on each of [`RUNNERS`], whose output must equal QEMU's.
fn against_qemu(
    report: &mut Report,
    name: &str,
    run: impl Fn(Runner) -> Result<(Vec<String>, Duration), String>,
) {
    let expected = match run(Runner::Qemu) {
        Ok((lines, t)) => {
            report.pass(&format!("{name} on qemu"), t);
            lines
        }
        Err(why) => {
            report.fail(&format!("{name} on qemu"), &why);
            return;
        }
    };
    for runner in RUNNERS {
        let what = format!("{name} {} (vs qemu)", runner.label());
        match run(runner) {
            Ok((lines, t)) if lines == expected => report.pass(&what, t),
            Ok((lines, _)) => report.fail(
                &what,
                &format!(
                    "output differs from QEMU's:\n--- qemu\n{}\n--- ours\n{}",
                    expected.join("\n"),
                    lines.join("\n")
                ),
            ),
            Err(why) => report.fail(&what, &why),
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The network check: on QEMU, then `tiered/mttcg` and `interp/rr`: the script's
/// output must equal QEMU's, and the host's client must get the guest's page.
pub fn net_checks(report: &mut Report, paths: &Paths, timeout: Duration) {
    let setup = linux::kernel(paths).and_then(|k| Ok((k, initramfs::initramfs(paths)?)));
    let (kernel, initrd) = match setup {
        Ok(v) => v,
        Err(e) => {
            report.fail("fetch Debian's kernel and busybox", &format!("{e:#}"));
            return;
        }
    };
    let run = |runner: Runner| -> Result<(Vec<String>, Duration), String> {
        let stop = Arc::new(AtomicBool::new(false));
        let got = Arc::new(AtomicBool::new(false));
        let (http, server) =
            http_server(stop.clone(), got.clone()).map_err(|e| format!("{e:#}"))?;
        let fwd = free_port().map_err(|e| format!("{e:#}"))?;
        let append = format!(
            "console=ttyAMA0 {} xtask.httpport={http}",
            initramfs::NET_PARAM
        );
        let mut cmd =
            linux::command_with(runner, &paths.virt(), &kernel, 2, Some(&initrd), &append);
        cmd.args([
            "-global",
            "virtio-mmio.force-legacy=false",
            "-netdev",
            &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{fwd}-:8080"),
            "-device",
            "virtio-net-device,netdev=n0",
        ]);
        let client = hostfwd_client(fwd, stop.clone(), got);
        let boot = linux::boot_until(cmd, initramfs::CHECK_END, timeout);
        stop.store(true, Ordering::SeqCst);
        let _ = server.join();
        let got = client.join().unwrap_or_default();
        let boot = boot.map_err(|e| format!("{e:#}"))?;
        let mut lines = initramfs::check_output(&boot.log).ok_or_else(|| {
            let lines: Vec<&str> = boot.log.lines().collect();
            format!(
                "the network script did not finish in {:.1} s; last lines:\n{}",
                boot.elapsed.as_secs_f64(),
                lines[lines.len().saturating_sub(25)..].join("\n")
            )
        })?;
        lines.push(format!("(host) through hostfwd: {got:?}"));
        if !lines.iter().any(|l| l == HOST_BODY.trim_end()) {
            return Err(format!(
                "the guest did not get the host's page over HTTP:\n{}",
                lines.join("\n")
            ));
        }
        if got != "hello from the guest\n" {
            return Err(format!(
                "the host did not reach the guest's server through hostfwd:\n{}",
                lines.join("\n")
            ));
        }
        Ok((lines, boot.reached.unwrap_or(boot.elapsed)))
    };
    against_qemu(report, "linux virtio-net user networking", run);
}
