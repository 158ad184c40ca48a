//! Writes a rendering where the user asked: to standard output, or to a
//! file replaced atomically.
//!
//! A file is first written in full to a temporary file in the same
//! directory, flushed to disk, then renamed over the target, so a failure
//! at any point leaves the old file as it was and no half-written file
//! behind. The new file gets the permissions a newly created file gets
//! (0666 less the umask), not the temporary file's private ones. A
//! symbolic link is followed, so the file it points to is replaced, not
//! the link. Something that is not a regular file (`/dev/stdout`, a named
//! pipe) cannot be replaced and is written to directly.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Why an output could not be written, and which exit status that is.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The `-o` path cannot be a file to write (exit status 2).
    #[error("-o {path}: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// Binary output was about to go to a terminal (exit status 2).
    #[error(
        "refusing to write a binary capture to the terminal; \
         write it to a file with -o FILE (or redirect standard output)"
    )]
    BinaryToTerminal,
    /// Writing failed (exit status 1).
    #[error("cannot write {target}: {source}")]
    Write {
        /// The file, or `standard output`.
        target: String,
        /// The system's error.
        source: std::io::Error,
    },
}

impl OutputError {
    /// Returns the exit status: 2 for a bad flag, 1 for a failed write.
    pub fn exit_status(&self) -> u8 {
        match self {
            OutputError::BadPath { .. } | OutputError::BinaryToTerminal => 2,
            OutputError::Write { .. } => 1,
        }
    }
}

/// Checks an `-o` path before the run: its directory must exist, and it
/// must not name a directory or the scenario file itself.
pub fn check_path(path: &Path, scenario: &Path) -> Result<(), OutputError> {
    let bad = |why: &str| OutputError::BadPath {
        path: path.display().to_string(),
        why: why.to_string(),
    };
    if path.as_os_str().is_empty() {
        return Err(bad("the file name is empty"));
    }
    if path.is_dir() {
        return Err(bad("is a directory; give a file name"));
    }
    let directory = directory_of(path);
    if !directory.is_dir() {
        let why = format!("the directory {} does not exist", directory.display());
        return Err(bad(&why));
    }
    let same = |a: &Path, b: &Path| {
        a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
    };
    if same(path, scenario) {
        return Err(bad("is the scenario file itself; choose another name"));
    }
    Ok(())
}

/// Refuses binary output when standard output is a terminal.
pub fn check_stdout_for_binary() -> Result<(), OutputError> {
    if std::io::stdout().is_terminal() {
        return Err(OutputError::BinaryToTerminal);
    }
    Ok(())
}

/// Writes `bytes` to standard output; a closed pipe (as with `| head`) is
/// not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), OutputError> {
    write_stdout_with(|out| out.write_all(bytes))
}

/// Writes to standard output through `produce`, buffered; a closed pipe
/// is not an error.
pub fn write_stdout_with(
    produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match produce(&mut stdout).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(OutputError::Write {
            target: "standard output".to_string(),
            source: error,
        }),
        _ => Ok(()),
    }
}

/// Replaces the file at `path` with `bytes`, atomically where it can.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_file_with(path, |out| out.write_all(bytes))
}

/// Replaces the file at `path` with what `produce` writes, atomically
/// where it can: when `produce` fails, the old file is left as it was.
pub fn write_file_with(
    path: &Path,
    produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let failed = |source| OutputError::Write {
        target: path.display().to_string(),
        source,
    };
    let target = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if std::fs::metadata(&target).is_ok_and(|metadata| !metadata.is_file()) {
        return write_in_place(&target, produce).map_err(failed);
    }
    let directory = directory_of(&target);
    let temporary = temporary_file_builder()
        .tempfile_in(directory)
        .map_err(failed)?;
    let mut buffered = std::io::BufWriter::new(temporary);
    produce(&mut buffered)
        .and_then(|()| buffered.flush())
        .map_err(failed)?;
    let temporary = buffered
        .into_inner()
        .map_err(|error| failed(error.into_error()))?;
    temporary.as_file().sync_all().map_err(failed)?;
    temporary
        .persist(&target)
        .map_err(|error| failed(error.error))?;
    Ok(())
}

/// Writes to something that is not a regular file, such as a device.
fn write_in_place(
    target: &Path,
    produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let special = std::fs::OpenOptions::new().write(true).open(target)?;
    let mut buffered = std::io::BufWriter::new(special);
    produce(&mut buffered)?;
    buffered.flush()
}

/// Returns the directory a file path lies in (`.` for a bare name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Sets up temporary files named `.seqsim-*.partial`; on Unix with mode
/// 0666, which the umask then narrows, as for any newly created file.
fn temporary_file_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".seqsim-").suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lies_in_the_current_directory() {
        assert_eq!(directory_of(Path::new("out.mmd")), PathBuf::from("."));
        assert_eq!(directory_of(Path::new("a/out.mmd")), PathBuf::from("a"));
    }

    #[test]
    fn replacing_a_file_leaves_no_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("out.txt");
        std::fs::write(&target, "old").unwrap();
        write_file(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(directory.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_followed_and_kept() {
        let directory = tempfile::tempdir().unwrap();
        let real = directory.path().join("real.txt");
        let link = directory.path().join("link.txt");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_missing_directory_is_a_bad_path() {
        let error =
            check_path(Path::new("/nonexistent-dir/x.pcap"), Path::new("s.yaml")).unwrap_err();
        assert_eq!(error.exit_status(), 2);
        assert!(error.to_string().contains("does not exist"), "{error}");
    }
}
