//! Where things are: the workspace root, the cargo target directory, the
//! guest sources and outputs, the emulator binary.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
    pub target: PathBuf,
}

impl Paths {
    pub fn new() -> Paths {
        // xtask/ sits directly in the workspace root.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().unwrap_or(manifest).to_path_buf();
        // Nested cargo commands run in `root`, so a relative CARGO_TARGET_DIR
        // is resolved against it, as cargo does.
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => root.join(dir),
            _ => root.join("target"),
        };
        Paths { root, target }
    }

    pub fn guests_src(&self) -> PathBuf {
        self.root.join("guests")
    }

    pub fn guest_out(&self) -> PathBuf {
        self.target.join("guests")
    }

    pub fn virt(&self) -> PathBuf {
        self.target.join("release").join("virt")
    }
}
