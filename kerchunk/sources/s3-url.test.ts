import { describe, expect, it } from 'vitest';
import { checkS3Endpoint, formatS3Url, parseS3Url, s3ObjectUrl } from './s3-url.js';

describe('s3 URLs', () => {
  it('parses bucket and key, keeping the key literal', () => {
    expect(parseS3Url('s3://my-bucket/a/b c%20.nc')).toEqual({ bucket: 'my-bucket', key: 'a/b c%20.nc' });
    expect(parseS3Url('s3://my.bucket')).toEqual({ bucket: 'my.bucket', key: '' });
    expect(parseS3Url('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(formatS3Url({ bucket: 'b12', key: 'k/x' })).toBe('s3://b12/k/x');
  });

  it('rejects invalid bucket names, userinfo, ports and other schemes', () => {
    for (const url of ['s3://UPPER/k', 's3://ab/k', 's3://user@bucket/k', 's3://bucket:9000/k', 's3:///k', 's3a://bucket/k', 'https://bucket/k', 's3://a..b/k']) {
      expect(parseS3Url(url)).toBeUndefined();
    }
  });

  it('maps to path-style http URLs with each key segment encoded', () => {
    expect(s3ObjectUrl('http://127.0.0.1:9000/', { bucket: 'data', key: 'dir/file name#1?.nc' })).toBe('http://127.0.0.1:9000/data/dir/file%20name%231%3F.nc');
    expect(s3ObjectUrl('https://minio.example/s3', { bucket: 'data', key: 'x%2e.nc' })).toBe('https://minio.example/s3/data/x%252e.nc');
  });

  it('checks endpoints', () => {
    expect(checkS3Endpoint('https://S3.Example.org:443/')).toBe('https://s3.example.org');
    expect(checkS3Endpoint('http://127.0.0.1:9000/prefix/')).toBe('http://127.0.0.1:9000/prefix');
    for (const endpoint of ['ftp://x', 'http://user:pw@host', 'http://host/?q', 'not a url']) {
      expect(() => checkS3Endpoint(endpoint)).toThrow(TypeError);
    }
  });
});
