//! The node's home directory: where its keys and database live.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// A home directory and the files in it.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `--home`, else `ENTENTE_HOME` (both handled by clap), else the platform data directory.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Self> {
        let root = match explicit {
            Some(p) => p,
            None => directories::ProjectDirs::from("org", "Entente", "entente")
                .context("no home directory: pass --home DIR or set ENTENTE_HOME")?
                .data_dir()
                .to_path_buf(),
        };
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn identity_public(&self) -> PathBuf {
        self.root.join("identity.json")
    }

    pub fn identity_secret(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("entente.db")
    }

    /// Creates the home directory (mode 0700) if it does not exist.
    pub fn create(&self) -> Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .with_context(|| format!("cannot create home directory {}", self.root.display()))
    }

    /// Fails with a helpful message unless `entente init` has run here.
    pub fn require_initialised(&self) -> Result<()> {
        if !self.identity_public().exists() {
            bail!(
                "no identity in {}: run `entente init --name NAME` first (or pass --home DIR)",
                self.root.display()
            );
        }
        Ok(())
    }
}

/// Writes a file that only its owner may read (mode 0600), refusing to replace an existing one.
pub fn write_private_new(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The umask may have narrowed the mode further, never widened it; make it exact anyway.
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set permissions on {}", path.display()))
}

/// Replaces `path` atomically: a reader sees the old file or the new one, never half of either.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
