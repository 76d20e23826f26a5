using QctPipeline.Domain;
using QctPipeline.Evaluation;

namespace QctPipeline.Tests.Evaluation;

/// <summary>The eval-real manifest: the repository's own real-data manifest, the mask expression, and every kind of bad row.</summary>
public sealed class EvalRealManifestTests
{
    private const string Header = "case,series,level,reference_mask,centroid_lps,reference_hu,l1_in_view,note";

    [Fact]
    public void The_real_data_manifest_reads_every_row_and_points_at_files_that_exist()
    {
        var manifest = EvaluationManifest.Read(RepositoryFiles.Path("docs", "eval", "realdata.csv"));

        Assert.Empty(manifest.Problems);
        Assert.Equal(["ts-spine-t12", "ts-spine-t11", "lidc-0001-l1", "cptac-sharp-l1", "tptbox-l3"], manifest.Cases.Select(c => c.Name));
        Assert.All(manifest.Cases, c => Assert.True(Directory.Exists(c.SeriesPath) || File.Exists(c.SeriesPath), c.SeriesPath));
        Assert.All(manifest.Cases.SelectMany(c => c.ReferenceMask?.Terms ?? []), term => Assert.True(File.Exists(term.Path), term.Path));

        var tptbox = manifest.Cases.Single(c => c.Name == "tptbox-l3");
        Assert.True(tptbox.SeriesIsNifti);
        Assert.Equal("L3", tptbox.Level);
        Assert.False(tptbox.L1InView);
        var terms = tptbox.ReferenceMask!.Terms;
        Assert.Equal(2, terms.Count);
        Assert.Equal([22], terms[0].Labels);
        Assert.Equal([49, 50], terms[1].Labels);
        Assert.EndsWith("sub-ct_seg-subreg_label-22_msk.nii.gz", terms[1].Path, StringComparison.Ordinal);
        Assert.True(terms[1].Holds(49) && terms[1].Holds(50) && !terms[1].Holds(48) && !terms[1].Holds(49.5f));

        var lidc = manifest.Cases.Single(c => c.Name == "lidc-0001-l1");
        Assert.Equal(new Vector3(23.5, 38.5, -280), lidc.CentroidLps);
        Assert.True(lidc.L1InView);
        Assert.Null(manifest.Cases.Single(c => c.Name == "cptac-sharp-l1").ReferenceMask);
    }

    [Fact]
    public void Paths_are_relative_to_the_manifest_folder_and_a_bare_file_means_any_non_zero_voxel()
    {
        var manifest = EvaluationManifest.Parse(
            "case,series,level,reference_mask\r\nx,ct/dicom,L1,\"masks/body.nii.gz & masks/labels.nii:3-5, 7\"\r\n", "m.csv", "/data/study");

        var terms = manifest.Cases.Single().ReferenceMask!.Terms;
        Assert.Equal("/data/study/ct/dicom", manifest.Cases[0].SeriesPath);
        Assert.Equal("/data/study/masks/body.nii.gz", terms[0].Path);
        Assert.Null(terms[0].Labels);
        Assert.True(terms[0].Holds(0.5f) && !terms[0].Holds(0));
        Assert.Equal([3, 4, 5, 7], terms[1].Labels);
    }

    [Theory]
    [InlineData("a,ct,,m.nii.gz:1,,,,", "case, series and level must all be given")]
    [InlineData("a,ct,L9,m.nii.gz:1,,,,", "level 'L9' is not a vertebra name")]
    [InlineData("a b,ct,L1,m.nii.gz:1,,,,", "case name 'a b' may hold only")]
    [InlineData("a,ct,L1,m.nii.gz:x,,,,", "'x' is not a list of labels")]
    [InlineData("a,ct,L1,m.nii.gz:1 & ,,,,", "an empty term")]
    [InlineData("a,ct,L1,labels.txt:1,,,,", "'labels.txt' is not a NIfTI file")]
    [InlineData("a,ct,L1,,1 2,,,", "centroid_lps '1 2' is not three numbers")]
    [InlineData("a,ct,L1,,1 2 z,,,", "centroid_lps '1 2 z' is not three numbers")]
    [InlineData("a,ct,L1,m.nii.gz:1,,hot,,", "reference_hu 'hot' is not a number")]
    [InlineData("a,ct,L1,m.nii.gz:1,,,maybe,", "l1_in_view 'maybe' is not yes or no")]
    [InlineData("a,ct,T12,,,,no,", "needs a reference_mask or a centroid_lps")]
    [InlineData("a,ct,L1,,,,yes,", "needs a reference_mask or a centroid_lps")]
    [InlineData("a,ct,L1,m.nii.gz:1,,,,,extra", "9 fields, the header has 8")]
    public void A_bad_row_is_one_problem_naming_its_line_and_case_and_the_good_rows_stand(string badRow, string reason)
    {
        var text = $"{Header}\ngood,ct,L1,,1 2 3,,yes,\n{badRow}\nalso-good,ct,T12,m.nii.gz:32,,,no,\n";

        var manifest = EvaluationManifest.Parse(text, "m.csv", "/data");

        Assert.Equal(["good", "also-good"], manifest.Cases.Select(c => c.Name));
        var problem = Assert.Single(manifest.Problems).ToString();
        Assert.StartsWith("m.csv:3", problem, StringComparison.Ordinal);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void An_L1_row_with_l1_in_view_no_needs_no_location_and_a_repeated_case_name_is_a_problem()
    {
        var manifest = EvaluationManifest.Parse($"{Header}\nchest,ct,L1,,,,no,\nchest,ct2,L1,,,,no,\n", "m.csv", "/data");

        Assert.Single(manifest.Cases);
        Assert.Contains("case name 'chest' is used by an earlier row", Assert.Single(manifest.Problems).Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("case,series,reference_mask\na,b,c\n", "no 'level' column")]
    [InlineData("case,series,level,refrence_mask\na,b,L1,c\n", "unknown column 'refrence_mask'")]
    public void A_header_without_the_needed_columns_makes_the_whole_manifest_unusable(string text, string reason)
    {
        var exception = Assert.Throws<InvalidDataException>(() => EvaluationManifest.Parse(text, "m.csv", "/data"));

        Assert.StartsWith("m.csv: ", exception.Message, StringComparison.Ordinal);
        Assert.Contains(reason, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_manifest_is_named()
    {
        var exception = Assert.Throws<FileNotFoundException>(() => EvaluationManifest.Read("/nonexistent/eval.csv"));

        Assert.Contains("/nonexistent/eval.csv", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_rows_carry_the_line_they_start_on_across_blank_lines_quoted_breaks_and_lone_carriage_returns()
    {
        var rows = CsvText.Rows("a,b\r\n\r\n\"x\ny\",2\rlast,3\n");

        Assert.Equal([1, 3, 5], rows.Select(row => row.Line));
        Assert.Equal(["x\ny", "2"], rows[1].Fields);
    }
}
