namespace QctPipeline.Tests.Cli;

/// <summary>`qct batch --dicomweb` against a real Orthanc: pull every sample study, analyse, store SEG and SR back.</summary>
public sealed class DicomWebBatchTests(OrthancServer orthanc) : IClassFixture<OrthancServer>
{
    [Fact]
    public void Batch_through_dicomweb_stores_a_seg_and_an_sr_in_every_study_and_a_rerun_adds_nothing()
    {
        orthanc.Upload(Directory.EnumerateFiles(RepositoryFiles.Path("sample-dicom"), "*.dcm", SearchOption.AllDirectories));
        Assert.Equal(6, orthanc.ModalitiesByStudy().Count);
        using var folder = new TempFolder();
        string[] arguments = ["batch", "--dicomweb", orthanc.DicomWebUrl, "--out", folder.File("out"), "--db", folder.File("results.sqlite")];

        var first = QctProcess.Run(OrthancServer.Credentials, arguments);

        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Contains("6 stud(ies) from DICOMweb; SEG and SR of 6 stud(ies) stored back", first.Output, StringComparison.Ordinal);
        Assert.All(orthanc.ModalitiesByStudy().Values, modalities => Assert.Equal(["CT", "SEG", "SR"], modalities));
        Assert.DoesNotContain(OrthancServer.Password, first.Output + first.Error, StringComparison.Ordinal);
        Assert.All(Directory.EnumerateFiles(folder.File("out"), "*.ndjson", SearchOption.AllDirectories), log =>
            Assert.DoesNotContain(OrthancServer.Password, File.ReadAllText(log), StringComparison.Ordinal));

        var second = QctProcess.Run(OrthancServer.Credentials, arguments);

        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("0 analysed, 6 skipped", second.Output, StringComparison.Ordinal);
        Assert.Contains("SEG and SR of 0 stud(ies) stored back", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_credentials_fail_in_one_line_without_the_password_and_credentials_in_the_url_are_refused()
    {
        using var folder = new TempFolder();
        var wrong = new Dictionary<string, string> { ["QCT_DICOMWEB_USER"] = OrthancServer.User, ["QCT_DICOMWEB_PASSWORD"] = "not-the-password" };

        var refused = QctProcess.Run(wrong, "pull", "--dicomweb", orthanc.DicomWebUrl, "--cache", folder.File("cache"));

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("HTTP 401", refused.Error, StringComparison.Ordinal);
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.DoesNotContain("not-the-password", refused.Error + refused.Output, StringComparison.Ordinal);

        var inUrl = QctProcess.Run("pull", "--dicomweb", orthanc.DicomWebUrl.Replace("http://", "http://qct:secret@", StringComparison.Ordinal), "--cache", folder.File("cache"));
        Assert.NotEqual(0, inUrl.ExitCode);
        Assert.Contains("credentials in the URL are refused", inUrl.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", inUrl.Error, StringComparison.Ordinal);
    }
}
