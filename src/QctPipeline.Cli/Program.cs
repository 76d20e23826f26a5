using QctPipeline.Dicom;

foreach (var path in args)
{
    var file = DicomFile.ReadHeader(path);
    Console.WriteLine($"{path}: {file.TransferSyntax.Name} rows={file.Dataset.GetInteger(DicomTag.Rows)} pos={string.Join(',', file.Dataset.GetNumbers(DicomTag.ImagePositionPatient) ?? [])}");
}
