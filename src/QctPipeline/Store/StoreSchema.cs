using System.Globalization;
using Microsoft.Data.Sqlite;

namespace QctPipeline.Store;

/// <summary>
/// The store's schema as numbered migrations; PRAGMA user_version holds the last one applied. Each migration runs in
/// one immediate transaction that re-reads the version first, so two processes opening a new store at once apply it
/// once. A store newer than this program is refused rather than written.
/// </summary>
internal static class StoreSchema
{
    private static readonly string[] Migrations =
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
    ];

    public static int CurrentVersion => Migrations.Length;

    public static void Migrate(SqliteConnection connection, string path)
    {
        for (var target = 1; target <= Migrations.Length; target++)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var version = Version(connection, transaction);
            if (version > Migrations.Length)
            {
                throw new ResultStoreException($"{path}: results store schema {version} is newer than this program's {Migrations.Length}: upgrade QctPipeline");
            }

            if (version >= target)
            {
                transaction.Commit();
                continue;
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[target - 1] + string.Create(CultureInfo.InvariantCulture, $"\nPRAGMA user_version = {target};");
            command.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private static long Version(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version;";
        return (long)command.ExecuteScalar()!;
    }
}
