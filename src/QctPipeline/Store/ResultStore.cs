using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using QctPipeline.Domain;

namespace QctPipeline.Store;

/// <summary>A store that cannot be opened, migrated or written: one line naming the file and the reason.</summary>
public sealed class ResultStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The results store: one row per measured series and software/model version in an embedded SQLite database (WAL,
/// synchronous FULL, every write one transaction, so a process killed mid-write leaves the last committed state).
/// The schema is versioned by PRAGMA user_version and migrated forward on open (<see cref="StoreSchema"/>). Values
/// reach SQL only as parameters, so any PatientID (path separators, quotes, SQL) is stored as it is.
/// </summary>
public sealed class ResultStore : IDisposable
{
    private readonly DbConnection connection;
    private readonly byte[] pseudonymKey;

    private ResultStore(string path, DbConnection connection, byte[] pseudonymKey)
    {
        Path = path;
        this.connection = connection;
        this.pseudonymKey = pseudonymKey;
    }

    public string Path { get; }

    public int SchemaVersion => StoreSchema.CurrentVersion;

    /// <summary>
    /// The default database: $QCT_DB, else $XDG_DATA_HOME/qctpipeline/results.sqlite, else
    /// ~/.local/share/qctpipeline/results.sqlite.
    /// </summary>
    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable("QCT_DB") is { Length: > 0 } configured)
        {
            return configured;
        }

        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return System.IO.Path.Combine(data, "qctpipeline", "results.sqlite");
    }

    /// <summary>
    /// Opens and migrates the store: an SQLite file (created with its folder if needed), or a PostgreSQL database named
    /// by a postgres:// URL shared by many workers. The URL carries no password: it comes from $QCT_DB_PASSWORD or a
    /// file named by $QCT_DB_PASSWORD_FILE, and no message ever shows it.
    /// </summary>
    public static ResultStore Open(string pathOrUrl) => Open(pathOrUrl, SharedPseudonymKey.FromEnvironment());

    /// <summary>
    /// Opens the store with a pseudonym key shared by every worker (<see cref="SharedPseudonymKey"/>), so that a patient
    /// has one pseudonym across workers' stores and merged stores. A store made without it keeps its own key, and
    /// opening it with another one is refused: its pseudonyms would not match the other workers'.
    /// </summary>
    public static ResultStore Open(string pathOrUrl, byte[]? sharedPseudonymKey) =>
        pathOrUrl.StartsWith("postgres://", StringComparison.Ordinal) || pathOrUrl.StartsWith("postgresql://", StringComparison.Ordinal)
            ? OpenPostgres(pathOrUrl, sharedPseudonymKey)
            : OpenSqlite(pathOrUrl, sharedPseudonymKey);

    private static ResultStore OpenSqlite(string path, byte[]? sharedPseudonymKey)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        SqliteConnection? connection = null;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(fullPath)!);
            connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = fullPath,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
                DefaultTimeout = 30,
            }.ToString());
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 30000;");
            Execute(connection, "PRAGMA journal_mode = WAL;");
            Execute(connection, "PRAGMA synchronous = FULL;");
            StoreSchema.Migrate(connection, StoreSchema.Dialect.Sqlite, fullPath);
            var key = PseudonymKey(connection, sharedPseudonymKey, fullPath);
            return new ResultStore(fullPath, connection, key);
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new ResultStoreException($"{fullPath}: results store unusable: {OneLine(ex.Message)}", ex);
        }
        catch (ResultStoreException)
        {
            connection?.Dispose();
            throw;
        }
    }

    private static ResultStore OpenPostgres(string url, byte[]? sharedPseudonymKey)
    {
        // The text itself may hold a password, so a malformed one is not echoed.
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.UserInfo.Length == 0)
        {
            throw new ResultStoreException("--db: not a postgres://user@host[:port]/database URL");
        }

        var shown = new UriBuilder(uri) { Password = string.Empty }.Uri.AbsoluteUri;
        if (uri.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            throw new ResultStoreException($"{shown}: a password in the --db URL is refused (it would show in process lists); use $QCT_DB_PASSWORD or $QCT_DB_PASSWORD_FILE");
        }

        var password = Environment.GetEnvironmentVariable("QCT_DB_PASSWORD")
            ?? (Environment.GetEnvironmentVariable("QCT_DB_PASSWORD_FILE") is { } file ? File.ReadLines(file).FirstOrDefault() : null);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } database ? Uri.UnescapeDataString(database) : "postgres",
            Username = Uri.UnescapeDataString(uri.UserInfo),
            Password = password,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 60,
        };
        NpgsqlConnection? connection = null;
        try
        {
            connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            StoreSchema.Migrate(connection, StoreSchema.Dialect.Postgres, shown);
            var key = PseudonymKey(connection, sharedPseudonymKey, shown);
            return new ResultStore(shown, connection, key);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
        {
            connection?.Dispose();
            throw new ResultStoreException($"{shown}: results store unusable: {OneLine(ex.Message)}", ex);
        }
        catch (ResultStoreException)
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>A keyed hash of a PatientID (HMAC-SHA256 under this store's own random key), "P-" and 16 hex digits.</summary>
    public string Pseudonym(string patientId) =>
        "P-" + Convert.ToHexStringLower(HMACSHA256.HashData(pseudonymKey, Encoding.UTF8.GetBytes(patientId)))[..16];

    /// <summary>Stores an exam; the row of the same series, software version and model version is replaced.</summary>
    public void Upsert(ExamRecord exam) => UpsertAll([exam]);

    /// <summary>Stores exams in one transaction: all of them or, if the process dies, none.</summary>
    public void UpsertAll(IReadOnlyList<ExamRecord> exams)
    {
        var current = exams.Count > 0 ? exams[0].SeriesInstanceUid : string.Empty;
        try
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = UpsertSql;
            foreach (var exam in exams)
            {
                current = exam.SeriesInstanceUid;
                command.Parameters.Clear();
                foreach (var (column, value) in Values(exam))
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = "@" + column;
                    parameter.Value = value ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }

                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        catch (DbException ex)
        {
            throw new ResultStoreException($"{Path}: could not store series {current}: {OneLine(ex.Message)}", ex);
        }
    }

    /// <summary>Each series' newest analysis, by patient and date: what a cohort export takes.</summary>
    public IReadOnlyList<ExamRecord> Newest() => Query("""
        SELECT * FROM exams e
        WHERE id = (SELECT id FROM exams n WHERE n.series_uid = e.series_uid ORDER BY analysed_at DESC, id DESC LIMIT 1)
        ORDER BY patient_id, study_date, series_uid
        """, null);

    /// <summary>Every row (every series and version), in the order they were stored.</summary>
    public IReadOnlyList<ExamRecord> All() => Query("SELECT * FROM exams ORDER BY id", null);

    /// <summary>The patient's exams, one per series (its newest analysis), oldest study first.</summary>
    public IReadOnlyList<ExamRecord> History(string patientId) =>
        Query("""
            SELECT * FROM exams e
            WHERE patient_id = @key
              AND id = (SELECT id FROM exams n WHERE n.series_uid = e.series_uid ORDER BY analysed_at DESC, id DESC LIMIT 1)
            ORDER BY study_date, analysed_at, id
            """, patientId);

    /// <summary>The newest analysis of a series, or null.</summary>
    public ExamRecord? Series(string seriesInstanceUid) =>
        Query("SELECT * FROM exams WHERE series_uid = @key ORDER BY analysed_at DESC, id DESC LIMIT 1", seriesInstanceUid).FirstOrDefault();

    /// <summary>Whether the series is stored with this software and model version (a batch skips it).</summary>
    public bool Contains(string seriesInstanceUid, string softwareVersion, string? modelVersion)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM exams WHERE series_uid = @series AND software_version = @software AND model_version = @model";
        AddParameter(command, "@series", seriesInstanceUid);
        AddParameter(command, "@software", softwareVersion);
        AddParameter(command, "@model", modelVersion ?? string.Empty);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>Rows in the store (every series and version).</summary>
    public long Count()
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM exams";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose() => connection.Dispose();

    private static readonly string[] Columns =
    [
        "patient_id", "patient_pseudonym", "study_date", "study_uid", "series_uid", "manufacturer", "scanner_model", "device_serial",
        "kvp", "kernel", "slice_thickness_mm", "contrast_detected", "contrast_phase", "calibration_method", "calibration_slope",
        "calibration_intercept", "calibration_r", "model_name", "model_version", "measured_level", "level_usable", "mean_hu",
        "median_hu", "sd_hu", "ellipse_mean_hu", "roi_voxels", "roi_volume_ml", "vbmd", "ellipse_vbmd", "category", "l1l2_vbmd", "l1l2_category",
        "vbmd_ci_low", "vbmd_ci_high", "vbmd_calibration_sd", "l1l2_ci_low", "l1l2_ci_high", "qc_flags",
        "warnings", "software_version", "analysed_at",
    ];

    private static readonly string UpsertSql = $"""
        INSERT INTO exams ({string.Join(", ", Columns)})
        VALUES ({string.Join(", ", Columns.Select(c => "@" + c))})
        ON CONFLICT (series_uid, software_version, model_version) DO UPDATE SET
        {string.Join(",\n", Columns.Where(c => c is not ("series_uid" or "software_version" or "model_version")).Select(c => $"{c} = excluded.{c}"))};
        """;

    private static IEnumerable<(string Column, object? Value)> Values(ExamRecord e)
    {
        object?[] values =
        [
            e.PatientId, e.PatientId is null ? null : e.PatientPseudonym, e.StudyDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            e.StudyInstanceUid, e.SeriesInstanceUid, e.Manufacturer, e.ManufacturerModelName, e.DeviceSerialNumber, e.Kvp,
            e.ConvolutionKernel, e.SliceThicknessMm, e.ContrastDetected ? 1 : 0, e.ContrastPhase, e.CalibrationMethod, e.CalibrationSlope,
            e.CalibrationIntercept, e.CalibrationR, e.ModelName, e.ModelVersion ?? string.Empty, e.MeasuredLevel, e.LevelUsable ? 1 : 0,
            e.MeanHu, e.MedianHu, e.SdHu, e.EllipseMeanHu, e.RoiVoxels, e.RoiVolumeMl, e.VbmdMgPerCm3, e.EllipseVbmdMgPerCm3, e.Category,
            e.L1L2VbmdMgPerCm3, e.L1L2Category, e.VbmdCi95?.Lower, e.VbmdCi95?.Upper, e.VbmdCalibrationSd, e.L1L2Ci95?.Lower, e.L1L2Ci95?.Upper, JsonSerializer.Serialize(e.QcFlags), JsonSerializer.Serialize(e.Warnings), e.SoftwareVersion,
            e.AnalysedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        ];
        return Columns.Zip(values);
    }

    /// <summary>The rows a query selects; <paramref name="key"/> fills its @key when it has one.</summary>
    private List<ExamRecord> Query(string sql, string? key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (key is not null)
        {
            AddParameter(command, "@key", key);
        }

        using var reader = command.ExecuteReader();
        var exams = new List<ExamRecord>();
        while (reader.Read())
        {
            exams.Add(Read(reader));
        }

        return exams;
    }

    private static ExamRecord Read(DbDataReader r)
    {
        string? Text(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : r.GetString(r.GetOrdinal(column));
        double? Number(string column) => r.IsDBNull(r.GetOrdinal(column)) ? null : Convert.ToDouble(r.GetValue(r.GetOrdinal(column)), CultureInfo.InvariantCulture);
        var modelVersion = Text("model_version");
        return new ExamRecord
        {
            PatientId = Text("patient_id"),
            PatientPseudonym = Text("patient_pseudonym"),
            StudyDate = Text("study_date") is { } date ? DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
            StudyInstanceUid = Text("study_uid"),
            SeriesInstanceUid = Text("series_uid")!,
            Manufacturer = Text("manufacturer"),
            ManufacturerModelName = Text("scanner_model"),
            DeviceSerialNumber = Text("device_serial"),
            Kvp = Number("kvp"),
            ConvolutionKernel = Text("kernel"),
            SliceThicknessMm = Number("slice_thickness_mm"),
            ContrastDetected = Number("contrast_detected") == 1,
            ContrastPhase = Text("contrast_phase")!,
            CalibrationMethod = Text("calibration_method")!,
            CalibrationSlope = Number("calibration_slope"),
            CalibrationIntercept = Number("calibration_intercept"),
            CalibrationR = Number("calibration_r"),
            ModelName = Text("model_name"),
            ModelVersion = modelVersion is { Length: > 0 } ? modelVersion : null,
            MeasuredLevel = Text("measured_level"),
            LevelUsable = Number("level_usable") == 1,
            MeanHu = Number("mean_hu"),
            MedianHu = Number("median_hu"),
            SdHu = Number("sd_hu"),
            EllipseMeanHu = Number("ellipse_mean_hu"),
            RoiVoxels = Number("roi_voxels"),
            RoiVolumeMl = Number("roi_volume_ml"),
            VbmdMgPerCm3 = Number("vbmd"),
            EllipseVbmdMgPerCm3 = Number("ellipse_vbmd"),
            Category = Text("category"),
            L1L2VbmdMgPerCm3 = Number("l1l2_vbmd"),
            L1L2Category = Text("l1l2_category"),
            VbmdCi95 = Number("vbmd_ci_low") is { } low && Number("vbmd_ci_high") is { } high ? (low, high) : null,
            VbmdCalibrationSd = Number("vbmd_calibration_sd"),
            L1L2Ci95 = Number("l1l2_ci_low") is { } low2 && Number("l1l2_ci_high") is { } high2 ? (low2, high2) : null,
            QcFlags = JsonSerializer.Deserialize<string[]>(Text("qc_flags") ?? "[]") ?? [],
            Warnings = JsonSerializer.Deserialize<string[]>(Text("warnings") ?? "[]") ?? [],
            SoftwareVersion = Text("software_version")!,
            AnalysedAt = DateTimeOffset.Parse(Text("analysed_at")!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        };
    }

    /// <summary>
    /// This store's pseudonym key: the shared one when given, else a random one, written once by whichever process
    /// creates the store first. A shared key that differs from the one the store already keeps is refused.
    /// </summary>
    private static byte[] PseudonymKey(DbConnection connection, byte[]? shared, string shown)
    {
        using var write = connection.CreateCommand();
        write.CommandText = "INSERT INTO store_settings (key, value) VALUES ('pseudonym_key', @value) ON CONFLICT (key) DO NOTHING";
        AddParameter(write, "@value", Convert.ToHexString(shared ?? RandomNumberGenerator.GetBytes(32)));
        write.ExecuteNonQuery();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM store_settings WHERE key = 'pseudonym_key'";
        var kept = Convert.FromHexString((string)read.ExecuteScalar()!);
        return shared is null || kept.AsSpan().SequenceEqual(shared)
            ? kept
            : throw new ResultStoreException($"{shown}: this store keeps another pseudonym key than the shared one given ($QCT_PSEUDONYM_KEY or $QCT_PSEUDONYM_KEY_FILE): its pseudonyms would not match the other workers'");
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
