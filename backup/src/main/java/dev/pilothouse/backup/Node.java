package dev.pilothouse.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One entry of a directory in a snapshot.
 *
 * @param name the file's name (at a snapshot's root: the absolute path that was backed up)
 * @param type file, dir or symlink
 * @param mode the POSIX mode bits (permissions, setuid, setgid, sticky)
 * @param mtime modification time, nanoseconds since the epoch
 * @param ctime status change time, nanoseconds since the epoch (detects changes mtime hides)
 * @param inode the inode number, with dev, to detect a replaced file
 * @param content a file's chunks (blob ids, hex) in order
 * @param subtree a directory's tree blob (hex)
 * @param target a symlink's target
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Node(
    String name,
    String type,
    int mode,
    int uid,
    int gid,
    long mtime,
    long ctime,
    long inode,
    long dev,
    long size,
    List<String> content,
    String subtree,
    String target) {

  public static final String FILE = "file";
  public static final String DIR = "dir";
  public static final String SYMLINK = "symlink";

  /** True when the file is surely unchanged since other was taken: same size, times and inode. */
  public boolean sameFile(Node other) {
    return other != null
        && FILE.equals(other.type)
        && FILE.equals(type)
        && size == other.size
        && mtime == other.mtime
        && ctime == other.ctime
        && inode == other.inode
        && dev == other.dev
        && other.content != null;
  }

  public Node withContent(List<String> c) {
    return new Node(name, type, mode, uid, gid, mtime, ctime, inode, dev, size, c, subtree, target);
  }

  public Node withSubtree(String s) {
    return new Node(name, type, mode, uid, gid, mtime, ctime, inode, dev, size, content, s, target);
  }
}
