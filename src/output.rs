//! Writes a rendering where the user asked: to standard output, or to a
//! file replaced atomically.
//!
//! A file is first written in full to a temporary `.seqsim-*.partial` file
//! in the same directory, flushed to disk, then renamed over the target,
//! so a failure at any point leaves the old file as it was and no
//! half-written file behind. When SIGINT, SIGTERM or SIGHUP stops the
//! process meanwhile, the temporary file is removed and the process exits
//! with 128 plus the signal's number (130, 143, 129).
//!
//! A replaced file keeps its permission bits; a new file gets what a newly
//! created file gets (0666 less the umask). A symbolic link is followed,
//! through chains of links, each read from its own directory: the file it
//! finally names is written (created if missing) and the link is kept.
//! Something that is not a regular file (`/dev/stdout`, a named pipe)
//! cannot be replaced and is written to directly. A file whose owner
//! write bit is clear is refused as read-only, whoever runs the program,
//! so root gets the same answer as anyone else.
//!
//! Not modelled: the owner, group, access control lists and extended
//! attributes of a replaced file (the new file belongs to whoever wrote
//! it); SIGKILL or a power cut still leaves the temporary file behind.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tempfile::NamedTempFile;

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

/// Checks an `-o` path before the run: the directory of the file it
/// names (after symbolic links) must exist, and it must not name a
/// directory, a read-only file or the scenario file itself.
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
    let target = resolve_links(path).map_err(|error| bad(&error.to_string()))?;
    check_directory(path, &target).map_err(|why| bad(&why))?;
    if is_read_only(&target) {
        return Err(bad("is read-only; make it writable or choose another name"));
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

/// Checks that the directory `target` lies in exists; `path` is what the
/// user gave, which differs from `target` when it is a symbolic link.
fn check_directory(path: &Path, target: &Path) -> Result<(), String> {
    let directory = directory_of(target);
    if directory.is_dir() {
        return Ok(());
    }
    let missing = format!("the directory {} does not exist", directory.display());
    if target == path {
        return Err(missing);
    }
    Err(format!("links to {}, but {missing}", target.display()))
}

/// Tells whether `path` is a regular file whose owner write bit is clear.
fn is_read_only(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && owner_cannot_write(&metadata.permissions()))
}

/// Tells whether the owner write bit (0200) is clear.
#[cfg(unix)]
fn owner_cannot_write(permissions: &std::fs::Permissions) -> bool {
    use std::os::unix::fs::PermissionsExt;
    permissions.mode() & 0o200 == 0
}

/// Tells whether the file is marked read-only.
#[cfg(not(unix))]
fn owner_cannot_write(permissions: &std::fs::Permissions) -> bool {
    permissions.readonly()
}

/// The most symbolic links followed from one path, as on Linux.
const MAX_LINKS: usize = 40;

/// Follows symbolic links from `path` to the path they finally name,
/// which need not exist; a relative link is read from its own directory.
///
/// A link that ends at a pipe, a terminal or a device is not followed:
/// the system opens it as it is. Under `/proc`, such a link (the one
/// behind `/dev/stdout` when standard output is a pipe) holds a name
/// like `pipe:[4321]` that is no path at all.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let is_link = std::fs::symlink_metadata(&current)
            .is_ok_and(|metadata| metadata.file_type().is_symlink());
        if !is_link || ends_at_special_file(&current) {
            return Ok(current);
        }
        let link = std::fs::read_link(&current)?;
        current = match current.parent() {
            Some(parent) => parent.join(link),
            None => link,
        };
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links in a row (a loop?)"
    )))
}

/// Tells whether `path`, followed by the system through every link,
/// names something other than a regular file or a directory.
fn ends_at_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file() && !metadata.is_dir())
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
    let target = resolve_links(path).map_err(failed)?;
    if std::fs::metadata(&target).is_ok_and(|metadata| !metadata.is_file()) {
        return write_in_place(&target, produce).map_err(failed);
    }
    let _forget = ForgetPartialFile;
    let mut temporary = create_partial_file(&directory_of(&target)).map_err(failed)?;
    fill(&mut temporary, produce).map_err(failed)?;
    keep_permissions(&temporary, &target).map_err(failed)?;
    persist_partial_file(temporary, &target).map_err(failed)
}

/// Writes everything `produce` gives to the temporary file and flushes
/// it to disk; it writes to the file itself, whose errors do not name
/// the temporary path.
fn fill(
    temporary: &mut NamedTempFile,
    produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::new(temporary.as_file_mut());
    produce(&mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    temporary.as_file().sync_all()
}

/// Gives the temporary file the permission bits of the file it replaces,
/// if there is one.
fn keep_permissions(temporary: &NamedTempFile, target: &Path) -> std::io::Result<()> {
    match std::fs::metadata(target) {
        Ok(old) => temporary.as_file().set_permissions(old.permissions()),
        Err(_) => Ok(()),
    }
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

/// The temporary file being written, if any: recorded when it is
/// created, forgotten once it is renamed or removed, and removed by the
/// signal handler when a signal stops the process in between.
static PARTIAL_FILE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Locks the record of the temporary file being written.
fn partial_file() -> MutexGuard<'static, Option<PathBuf>> {
    PARTIAL_FILE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forgets the recorded temporary file when dropped, however writing
/// ends (the temporary file removes itself when dropped unrenamed).
struct ForgetPartialFile;

impl Drop for ForgetPartialFile {
    fn drop(&mut self) {
        *partial_file() = None;
    }
}

/// Creates the temporary file in `directory` and records it, under the
/// lock, so that a signal never finds a file created but not recorded.
fn create_partial_file(directory: &Path) -> std::io::Result<NamedTempFile> {
    remove_partial_file_on_signal();
    let mut partial = partial_file();
    let temporary = temporary_file_builder().make_in(directory, create_new_file)?;
    *partial = Some(temporary.path().to_path_buf());
    Ok(temporary)
}

/// Renames the temporary file over `target` and forgets it, under the
/// lock, so that a signal either removes it before or finds nothing.
fn persist_partial_file(temporary: NamedTempFile, target: &Path) -> std::io::Result<()> {
    let mut partial = partial_file();
    let persisted = temporary.persist(target);
    *partial = None;
    persisted.map(drop).map_err(|error| error.error)
}

/// Starts, once, a thread that waits for SIGINT, SIGTERM or SIGHUP,
/// removes the temporary file being written and exits with 128 plus the
/// signal's number, as a shell reports a process the signal stopped.
#[cfg(unix)]
fn remove_partial_file_on_signal() {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        // Without the handlers, a signal stops the process as it always
        // did, and only the temporary file stays behind.
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    stop_after_removing_partial_file(signal);
                }
            });
        }
    });
}

/// Leaves signals as the system handles them, where there are no Unix
/// signals.
#[cfg(not(unix))]
fn remove_partial_file_on_signal() {}

/// Removes the temporary file being written, if any, and exits with 128
/// plus `signal`, holding the lock so that no rename happens meanwhile.
#[cfg(unix)]
fn stop_after_removing_partial_file(signal: i32) -> ! {
    let partial = partial_file();
    if let Some(path) = partial.as_ref() {
        // The process stops whatever happens; nothing is left to tell.
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(128 + signal)
}

/// Sets up temporary files named `.seqsim-*.partial`.
fn temporary_file_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".seqsim-").suffix(".partial");
    builder
}

/// Creates a file that must not exist yet; on Unix with mode 0666, which
/// the umask then narrows, as for any newly created file. Its errors,
/// unlike those of the temporary file's own creation, carry no path.
fn create_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    options.open(path)
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

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permission_bits() {
        let directory = tempfile::tempdir().unwrap();
        for mode in [0o600, 0o640, 0o755] {
            let target = directory.path().join(format!("out-{mode:o}.txt"));
            std::fs::write(&target, "old").unwrap();
            set_mode(&target, mode);
            write_file(&target, b"new").unwrap();
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
            assert_eq!(mode_of(&target), mode, "mode {mode:o} kept");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_whose_owner_write_bit_is_clear_is_refused_as_read_only() {
        let directory = tempfile::tempdir().unwrap();
        for mode in [0o444, 0o400, 0o466] {
            let target = directory.path().join(format!("out-{mode:o}.txt"));
            std::fs::write(&target, "old").unwrap();
            set_mode(&target, mode);
            let error = check_path(&target, Path::new("s.yaml")).unwrap_err();
            assert_eq!(error.exit_status(), 2);
            let expected = format!("-o {}: is read-only", target.display());
            assert!(error.to_string().starts_with(&expected), "{error}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_file_its_owner_may_write_is_accepted() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("out.txt");
        std::fs::write(&target, "old").unwrap();
        set_mode(&target, 0o200);
        check_path(&target, Path::new("s.yaml")).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_file_behind_a_link_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let real = directory.path().join("real.txt");
        let link = directory.path().join("link.txt");
        std::fs::write(&real, "old").unwrap();
        set_mode(&real, 0o444);
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        let error = check_path(&link, Path::new("s.yaml")).unwrap_err();
        assert!(error.to_string().contains("is read-only"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_gets_its_target_created_and_stays_a_link() {
        let directory = tempfile::tempdir().unwrap();
        let link = directory.path().join("link");
        std::os::unix::fs::symlink("target.txt", &link).unwrap();
        check_path(&link, Path::new("s.yaml")).unwrap();
        write_file(&link, b"new").unwrap();
        let target = directory.path().join("target.txt");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("target.txt"));
    }

    #[cfg(unix)]
    #[test]
    fn a_chain_of_relative_links_is_read_from_each_links_directory() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        std::fs::create_dir(root.join("links")).unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink("../real/out.txt", root.join("links/second")).unwrap();
        std::os::unix::fs::symlink("links/second", root.join("first")).unwrap();
        write_file(&root.join("first"), b"new").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("real/out.txt")).unwrap(),
            "new"
        );
        assert!(
            std::fs::symlink_metadata(root.join("first"))
                .unwrap()
                .is_symlink()
        );
        assert!(
            std::fs::symlink_metadata(root.join("links/second"))
                .unwrap()
                .is_symlink()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_into_a_missing_directory_is_a_bad_path() {
        let directory = tempfile::tempdir().unwrap();
        let link = directory.path().join("link");
        std::os::unix::fs::symlink("missing/target.txt", &link).unwrap();
        let error = check_path(&link, Path::new("s.yaml")).unwrap_err();
        assert_eq!(error.exit_status(), 2);
        assert!(error.to_string().contains("does not exist"), "{error}");
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_loop_of_links_is_a_bad_path() {
        let directory = tempfile::tempdir().unwrap();
        let first = directory.path().join("first");
        std::os::unix::fs::symlink("second", &first).unwrap();
        std::os::unix::fs::symlink("first", directory.path().join("second")).unwrap();
        let error = check_path(&first, Path::new("s.yaml")).unwrap_err();
        assert_eq!(error.exit_status(), 2);
        assert!(error.to_string().contains("symbolic links"), "{error}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_names_the_users_path_not_the_temporary_one() {
        // sysfs refuses new files even to root.
        let target = Path::new("/sys/seqsim-cannot-write-here.txt");
        let error = write_file(target, b"new").unwrap_err();
        assert_eq!(error.exit_status(), 1);
        let message = error.to_string();
        assert!(
            message.starts_with("cannot write /sys/seqsim-cannot-write-here.txt: "),
            "{message}"
        );
        assert!(!message.contains(".partial"), "{message}");
        assert!(!message.contains(".seqsim-"), "{message}");
    }

    #[test]
    fn the_temporary_file_is_forgotten_once_writing_ends() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("out.txt");
        let recorded = std::cell::RefCell::new(None);
        write_file_with(&target, |out| {
            *recorded.borrow_mut() = partial_file().clone();
            out.write_all(b"new")
        })
        .unwrap();
        let recorded = recorded.into_inner().expect("recorded while writing");
        assert_eq!(recorded.parent(), Some(directory.path()));
        assert!(!recorded.exists(), "renamed over the target");
        assert!(partial_file().as_ref().is_none_or(|path| path != &recorded));
    }

    #[test]
    fn a_failed_write_removes_and_forgets_its_temporary_file() {
        let directory = tempfile::tempdir().unwrap();
        let target = directory.path().join("out.txt");
        let recorded = std::cell::RefCell::new(None);
        let failed = write_file_with(&target, |out| {
            *recorded.borrow_mut() = partial_file().clone();
            out.write_all(b"half")?;
            Err(std::io::Error::other("cut short"))
        });
        assert!(failed.is_err());
        let recorded = recorded.into_inner().expect("recorded while writing");
        assert!(!recorded.exists());
        assert!(partial_file().as_ref().is_none_or(|path| path != &recorded));
        assert!(!target.exists());
    }
}
