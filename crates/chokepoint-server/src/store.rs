//! Runs and scenarios in SQLite (`chokepoint.sqlite` in the data dir), in WAL mode with full
//! synchronisation: a completed run is one committed transaction, so it survives the process
//! being killed at any moment; runs left queued or running by a killed process are marked
//! `interrupted` when the store opens again.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A stored run, without its report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunRecord {
    /// Id.
    pub id: i64,
    /// Scenario name.
    pub name: String,
    /// `queued`, `running`, `done`, `failed` or `interrupted`.
    pub status: String,
    /// When it was submitted (seconds since 1970).
    pub created: i64,
    /// When it finished.
    pub finished: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A stored scenario.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScenarioRecord {
    /// Id.
    pub id: i64,
    /// Name (from its header).
    pub name: String,
    /// The TOML text.
    pub text: String,
    /// When it was saved.
    pub created: i64,
}

/// A stored risk or finance job, without its result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobRecord {
    /// Id.
    pub id: i64,
    /// `risk` or `finance`.
    pub kind: String,
    /// Scenario name.
    pub name: String,
    /// The job's options (JSON: draws, seed, threshold…).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// `queued`, `running`, `done`, `failed` or `interrupted`.
    pub status: String,
    /// When it was submitted (seconds since 1970).
    pub created: i64,
    /// When it finished.
    pub finished: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What the store keeps in the background: scenario runs, or risk and finance jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario run (table `runs`).
    Run,
    /// A risk or finance job (table `jobs`).
    Job,
}

impl Kind {
    /// Its table.
    fn table(self) -> &'static str {
        match self {
            Kind::Run => "runs",
            Kind::Job => "jobs",
        }
    }

    /// Its name in messages (`run`, `job`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Job => "job",
        }
    }
}

/// The store.
pub struct Store {
    conn: Mutex<Connection>,
}

/// Wall-clock seconds: the store records when runs happen (the engine itself stays
/// deterministic and never reads the clock).
#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A store error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The lock was poisoned by a panic elsewhere.
    #[error("store: the connection lock is poisoned")]
    Poisoned,
}

impl Store {
    /// Opens (or creates) the store in `dir`, and marks runs a killed process left unfinished.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| rusqlite::Error::InvalidPath(dir.join(format!("(cannot create: {e})"))))?;
        let conn = Connection::open(dir.join("chokepoint.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS scenarios (
                 id INTEGER PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL,
                 created INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS runs (
                 id INTEGER PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL,
                 status TEXT NOT NULL, created INTEGER NOT NULL, finished INTEGER,
                 error TEXT, summary TEXT, report TEXT);
             CREATE TABLE IF NOT EXISTS jobs (
                 id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL,
                 text TEXT NOT NULL, options TEXT NOT NULL, status TEXT NOT NULL,
                 created INTEGER NOT NULL, finished INTEGER, error TEXT, result TEXT);",
        )?;
        for table in [Kind::Run.table(), Kind::Job.table()] {
            conn.execute(
                &format!(
                    "UPDATE {table} SET status = 'interrupted', finished = ?1
                     WHERE status IN ('queued', 'running')"
                ),
                params![now()],
            )?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&conn)?)
    }

    /// Saves a scenario; its id.
    pub fn add_scenario(&self, name: &str, text: &str) -> Result<i64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO scenarios (name, text, created) VALUES (?1, ?2, ?3)",
                params![name, text, now()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Every saved scenario, newest first.
    pub fn scenarios(&self) -> Result<Vec<ScenarioRecord>, StoreError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT id, name, text, created FROM scenarios ORDER BY id DESC")?;
            st.query_map([], |r| {
                Ok(ScenarioRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    text: r.get(2)?,
                    created: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    /// One saved scenario.
    pub fn scenario(&self, id: i64) -> Result<Option<ScenarioRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, name, text, created FROM scenarios WHERE id = ?1",
                params![id],
                |r| {
                    Ok(ScenarioRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        text: r.get(2)?,
                        created: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Queues a run; its id.
    pub fn add_run(&self, name: &str, text: &str) -> Result<i64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO runs (name, text, status, created) VALUES (?1, ?2, 'queued', ?3)",
                params![name, text, now()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Marks a run as running.
    pub fn start_run(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = 'running' WHERE id = ?1",
                params![id],
            )
            .map(|_| ())
        })
    }

    /// Stores a finished run's summary (JSON) and report (HTML) in one transaction.
    pub fn finish_run(&self, id: i64, summary: &str, report: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = 'done', finished = ?2, summary = ?3, report = ?4
                 WHERE id = ?1",
                params![id, now(), summary, report],
            )
            .map(|_| ())
        })
    }

    /// Records why a run failed.
    pub fn fail_run(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE runs SET status = 'failed', finished = ?2, error = ?3 WHERE id = ?1",
                params![id, now(), error],
            )
            .map(|_| ())
        })
    }

    fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
        Ok(RunRecord {
            id: r.get(0)?,
            name: r.get(1)?,
            status: r.get(2)?,
            created: r.get(3)?,
            finished: r.get(4)?,
            error: r.get(5)?,
        })
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, name, status, created, finished, error FROM runs ORDER BY id DESC",
            )?;
            st.query_map([], Self::record)?.collect()
        })
    }

    /// One run and its summary JSON.
    pub fn run(&self, id: i64) -> Result<Option<(RunRecord, Option<String>)>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, name, status, created, finished, error, summary FROM runs WHERE id = ?1",
                params![id],
                |r| Ok((Self::record(r)?, r.get(6)?)),
            )
            .optional()
        })
    }

    /// A run's report page.
    pub fn report(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row("SELECT report FROM runs WHERE id = ?1", params![id], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map(Option::flatten)
        })
    }

    /// Queues a risk or finance job; its id.
    pub fn add_job(
        &self,
        kind: &str,
        name: &str,
        text: &str,
        options: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO jobs (kind, name, text, options, status, created)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5)",
                params![kind, name, text, options.to_string(), now()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Sets a job's status (`running`), or ends it: `done` with its result (JSON) or `failed`
    /// with the reason, in one statement.
    pub fn set_job(
        &self,
        id: i64,
        status: &str,
        result: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let finished = (status != "running").then(now);
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET status = ?2, finished = ?3, result = ?4, error = ?5 WHERE id = ?1",
                params![id, status, finished, result, error],
            )
            .map(|_| ())
        })
    }

    fn job_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
        let options: String = r.get(3)?;
        Ok(JobRecord {
            id: r.get(0)?,
            kind: r.get(1)?,
            name: r.get(2)?,
            options: serde_json::from_str(&options).unwrap_or(serde_json::Value::Null),
            status: r.get(4)?,
            created: r.get(5)?,
            finished: r.get(6)?,
            error: r.get(7)?,
        })
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, kind, name, options, status, created, finished, error FROM jobs
                 ORDER BY id DESC",
            )?;
            st.query_map([], Self::job_record)?.collect()
        })
    }

    /// One job and its result JSON.
    pub fn job(&self, id: i64) -> Result<Option<(JobRecord, Option<String>)>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, kind, name, options, status, created, finished, error, result
                 FROM jobs WHERE id = ?1",
                params![id],
                |r| Ok((Self::job_record(r)?, r.get(8)?)),
            )
            .optional()
        })
    }

    /// The status and error of a run or job, without its results (what a progress stream
    /// polls).
    pub fn status(
        &self,
        kind: Kind,
        id: i64,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT status, error FROM {} WHERE id = ?1", kind.table()),
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }
}
