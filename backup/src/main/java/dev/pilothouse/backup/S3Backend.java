package dev.pilothouse.backup;

import java.io.IOException;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A repository in an S3-compatible bucket (AWS, MinIO, Ceph, s3proxy…), through the AWS SDK. A PUT
 * is atomic in S3, so files appear whole or not at all, as in a local directory.
 */
public final class S3Backend implements Backend {
  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final String location;

  /**
   * @param endpoint the service's URL (null for AWS itself)
   * @param prefix a folder inside the bucket, or empty
   */
  public S3Backend(
      String endpoint,
      String region,
      String bucket,
      String prefix,
      String accessKey,
      String secretKey,
      boolean pathStyle) {
    var b =
        S3Client.builder()
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .region(Region.of(region == null || region.isBlank() ? "us-east-1" : region))
            .forcePathStyle(pathStyle)
            // S3-compatible servers do not all know the SDK's newer default checksums
            .requestChecksumCalculation(
                software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(
                software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)));
    if (endpoint != null && !endpoint.isBlank()) {
      b.endpointOverride(URI.create(endpoint));
    }
    this.s3 = b.build();
    this.bucket = bucket;
    this.prefix = prefix == null || prefix.isBlank() ? "" : prefix.replaceAll("/+$", "") + "/";
    this.location = "s3://" + bucket + "/" + this.prefix;
  }

  @Override
  public String location() {
    return location;
  }

  private String key(Kind kind, String name) {
    if (name.isEmpty() || name.contains("/") || name.contains("..")) {
      throw new IllegalArgumentException("bad repository file name: " + name);
    }
    return switch (kind) {
      case CONFIG -> prefix + name;
      case DATA -> prefix + kind.dir + "/" + name.substring(0, 2) + "/" + name;
      default -> prefix + kind.dir + "/" + name;
    };
  }

  @Override
  public void put(Kind kind, String name, byte[] data) throws IOException {
    call(
        () ->
            s3.putObject(
                PutObjectRequest.builder().bucket(bucket).key(key(kind, name)).build(),
                RequestBody.fromBytes(data)),
        kind,
        name);
  }

  @Override
  public byte[] get(Kind kind, String name) throws IOException {
    return call(
        () ->
            s3.getObjectAsBytes(
                    GetObjectRequest.builder().bucket(bucket).key(key(kind, name)).build())
                .asByteArray(),
        kind,
        name);
  }

  @Override
  public byte[] get(Kind kind, String name, long offset, int length) throws IOException {
    byte[] b =
        call(
            () ->
                s3.getObjectAsBytes(
                        GetObjectRequest.builder()
                            .bucket(bucket)
                            .key(key(kind, name))
                            .range("bytes=" + offset + "-" + (offset + length - 1))
                            .build())
                    .asByteArray(),
            kind,
            name);
    if (b.length != length) {
      throw new IOException(
          kind.dir + "/" + name + " ends before byte " + (offset + length) + " (truncated)");
    }
    return b;
  }

  @Override
  public boolean exists(Kind kind, String name) throws IOException {
    try {
      call(
          () ->
              s3.headObject(
                  HeadObjectRequest.builder().bucket(bucket).key(key(kind, name)).build()),
          kind,
          name);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  @Override
  public List<Entry> list(Kind kind) throws IOException {
    String p = kind == Kind.CONFIG ? prefix : prefix + kind.dir + "/";
    List<Entry> out = new ArrayList<>();
    try {
      for (S3Object o :
          s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(p).build())
              .contents()) {
        String k = o.key();
        String name = k.substring(k.lastIndexOf('/') + 1);
        if (name.isEmpty()) {
          continue; // a folder marker, as some servers list them
        }
        if (kind == Kind.CONFIG && k.substring(p.length()).contains("/")) {
          continue;
        }
        out.add(new Entry(name, o.size()));
      }
    } catch (SdkException e) {
      throw new IOException("listing " + location + kind.dir + " failed: " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public void delete(Kind kind, String name) throws IOException {
    call(() -> s3.deleteObject(b -> b.bucket(bucket).key(key(kind, name))), kind, name);
  }

  private interface Call<T> {
    T run();
  }

  private <T> T call(Call<T> c, Kind kind, String name) throws IOException {
    try {
      return c.run();
    } catch (NoSuchKeyException e) {
      throw new NoSuchFileException(location + kind.dir + "/" + name);
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw new NoSuchFileException(location + kind.dir + "/" + name);
      }
      throw new IOException(
          location + kind.dir + "/" + name + ": " + e.awsErrorDetails().errorMessage(), e);
    } catch (SdkException e) {
      throw new IOException(location + kind.dir + "/" + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    s3.close();
  }
}
