using CnnInterpret.Tests.TestSupport;

namespace CnnInterpret.Tests.Daemon;

/// <summary>image/predict says when a picture does not suit the model, and which built-in models suit it.</summary>
public sealed class ImageFitTests
{
    [Fact]
    public async Task A_colour_photo_on_the_grayscale_model_is_called_out()
    {
        await using var daemon = new DaemonProcess();
        var photo = await daemon.ResultAsync("image/predict", new { image = Path.Combine(Repo.Samples, "photos", "dog.jpg"), topK = 3 });
        var fit = photo.GetProperty("fit");
        Assert.False(fit.GetProperty("suitable").GetBoolean());
        Assert.Contains("colour", fit.GetProperty("reason").GetString());
        Assert.Contains("resnet18-imagenet", fit.GetProperty("suggestions").EnumerateArray().Select(s => s.GetString()));

        var clothing = await daemon.ResultAsync("image/predict", new { image = Path.Combine(Repo.Samples, "ankle-boot-0.png"), topK = 3 });
        Assert.True(clothing.GetProperty("fit").GetProperty("suitable").GetBoolean());

        var onPhotoModel = await daemon.ResultAsync("image/predict", new { model = "resnet18-imagenet", image = Path.Combine(Repo.Samples, "photos", "dog.jpg"), topK = 3 });
        Assert.True(onPhotoModel.GetProperty("fit").GetProperty("suitable").GetBoolean());
    }
}
