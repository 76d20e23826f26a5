using System.Data.Common;
using System.Globalization;

namespace QctPipeline.Store;

/// <summary>
/// The store's schema as numbered migrations, the same tables in both dialects; SQLite keeps the last one applied in
/// PRAGMA user_version, PostgreSQL in the table qct_schema. Each migration runs in one transaction that first takes the
/// store's write lock (SQLite's immediate transaction, a PostgreSQL advisory lock) and re-reads the version, so two
/// processes opening a new store at once apply it once. A store newer than this program is refused rather than written.
/// </summary>
internal static class StoreSchema
{
    public enum Dialect
    {
        Sqlite,
        Postgres,
    }

    private const long MigrationLock = 0x51C7_0000_0001;

    private static readonly string[] SqliteMigrations =
    [
        """
        CREATE TABLE exams (
            id INTEGER PRIMARY KEY,
            patient_id TEXT,
            patient_pseudonym TEXT,
            study_date TEXT,
            study_uid TEXT,
            series_uid TEXT NOT NULL,
            manufacturer TEXT,
            scanner_model TEXT,
            device_serial TEXT,
            kvp REAL,
            kernel TEXT,
            slice_thickness_mm REAL,
            contrast_detected INTEGER NOT NULL,
            contrast_phase TEXT NOT NULL,
            calibration_method TEXT NOT NULL,
            calibration_slope REAL,
            calibration_intercept REAL,
            calibration_r REAL,
            model_name TEXT,
            model_version TEXT NOT NULL,
            measured_level TEXT,
            level_usable INTEGER NOT NULL,
            mean_hu REAL,
            median_hu REAL,
            sd_hu REAL,
            ellipse_mean_hu REAL,
            roi_voxels REAL,
            roi_volume_ml REAL,
            vbmd REAL,
            ellipse_vbmd REAL,
            category TEXT,
            qc_flags TEXT NOT NULL,
            warnings TEXT NOT NULL,
            software_version TEXT NOT NULL,
            analysed_at TEXT NOT NULL,
            UNIQUE (series_uid, software_version, model_version)
        );
        CREATE INDEX exams_by_patient ON exams (patient_id, study_date);
        CREATE INDEX exams_by_series ON exams (series_uid, analysed_at);
        CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,

        // 2: the ACR two-level figure (issue 16); rows stored before it read null.
        """
        ALTER TABLE exams ADD COLUMN l1l2_vbmd REAL;
        ALTER TABLE exams ADD COLUMN l1l2_category TEXT;
        """,

        // 3: the 95 % interval of each vBMD (issue 16); rows stored before it read null.
        """
        ALTER TABLE exams ADD COLUMN vbmd_ci_low REAL;
        ALTER TABLE exams ADD COLUMN vbmd_ci_high REAL;
        ALTER TABLE exams ADD COLUMN vbmd_calibration_sd REAL;
        ALTER TABLE exams ADD COLUMN l1l2_ci_low REAL;
        ALTER TABLE exams ADD COLUMN l1l2_ci_high REAL;
        """,
    ];

    /// <summary>The SQLite schema in PostgreSQL's types: identity keys, double precision (REAL is 4 bytes there).</summary>
    private static readonly string[] PostgresMigrations =
    [
        .. SqliteMigrations.Select(sql => sql
            .Replace("id INTEGER PRIMARY KEY", "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", StringComparison.Ordinal)
            .Replace(" REAL,", " DOUBLE PRECISION,", StringComparison.Ordinal)
            .Replace(" REAL;", " DOUBLE PRECISION;", StringComparison.Ordinal)),
    ];

    public static int CurrentVersion => SqliteMigrations.Length;

    public static void Migrate(DbConnection connection, Dialect dialect, string path)
    {
        var migrations = dialect == Dialect.Sqlite ? SqliteMigrations : PostgresMigrations;

        for (var target = 1; target <= migrations.Length; target++)
        {
            using var transaction = connection is Microsoft.Data.Sqlite.SqliteConnection sqlite ? sqlite.BeginTransaction(deferred: false) : connection.BeginTransaction();
            if (dialect == Dialect.Postgres)
            {
                Run(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})");
                Run(connection, transaction, "CREATE TABLE IF NOT EXISTS qct_schema (version INTEGER NOT NULL)");
            }

            var version = Version(connection, transaction, dialect);
            if (version > migrations.Length)
            {
                throw new ResultStoreException($"{path}: results store schema {version} is newer than this program's {migrations.Length}: upgrade QctPipeline");
            }

            if (version >= target)
            {
                transaction.Commit();
                continue;
            }

            Run(connection, transaction, migrations[target - 1]);
            Run(connection, transaction, dialect == Dialect.Sqlite
                ? string.Create(CultureInfo.InvariantCulture, $"PRAGMA user_version = {target};")
                : string.Create(CultureInfo.InvariantCulture, $"DELETE FROM qct_schema; INSERT INTO qct_schema (version) VALUES ({target});"));
            transaction.Commit();
        }
    }

    private static long Version(DbConnection connection, DbTransaction transaction, Dialect dialect)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = dialect == Dialect.Sqlite ? "PRAGMA user_version;" : "SELECT COALESCE(MAX(version), 0) FROM qct_schema";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Run(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
