//! Prints the optimised IR the real translator produces for the TBs at the given guest pcs
//! of a raw binary image: `dump_ir IMAGE LOAD_ADDR PC...` (a development aid).

use arm_cpu::translate::{translate_block, TbFlags};

fn parse(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: dump_ir IMAGE LOAD_ADDR PC...");
        std::process::exit(2);
    }
    let Ok(img) = std::fs::read(&args[1]) else {
        eprintln!("cannot read {}", args[1]);
        std::process::exit(2);
    };
    let load = parse(&args[2]);
    for pc in args[3..].iter().map(|s| parse(s)) {
        let page = pc & !0xfff;
        let mut buf = vec![0u8; 4096];
        let start = page.saturating_sub(load) as usize;
        if page >= load && start < img.len() {
            let n = (img.len() - start).min(4096);
            buf[..n].copy_from_slice(&img[start..start + n]);
        }
        // SAFETY: `buf` is a 4 KiB page holding the code at `pc`'s page offset.
        let (mut f, _, n) = unsafe { translate_block(buf.as_ptr(), pc, TbFlags::at_el(1)) };
        tcg_opt::optimize(&mut f);
        println!("# TB {pc:#x}: {n} insns, {} ops\n{f}", f.ops.len());
        match backend_interp::Interp::new().compile_tb(&f) {
            Ok(tb) => println!("{}", tb.listing()),
            Err(e) => println!("interp: {e}"),
        }
    }
}
