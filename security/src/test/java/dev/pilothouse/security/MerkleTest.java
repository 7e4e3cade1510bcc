package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tree heads and audit paths of RFC 6962. The reference vectors are those of Certificate
 * Transparency's Merkle tree tests (leaves "", 00, 10, 2021, …; published roots for sizes 0–8 and
 * audit paths), which every RFC 6962 implementation checks against.
 */
class MerkleTest {
  static final HexFormat HEX = HexFormat.of();
  static final String[] LEAVES = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"
  };
  static final String[] ROOTS = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };

  static List<byte[]> leaves(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Merkle.leafHash(HEX.parseHex(LEAVES[i])));
    }
    return out;
  }

  @Test
  void treeHeads_areTheReferenceRoots_forEverySizeUpToEight() {
    for (int n = 0; n <= 8; n++) {
      assertThat(HEX.formatHex(Merkle.root(leaves(n)))).as("size " + n).isEqualTo(ROOTS[n]);
    }
  }

  @Test
  void aFrontier_hasTheTreesHead_afterEveryAppend() {
    Merkle.Frontier f = new Merkle.Frontier();
    assertThat(HEX.formatHex(f.root())).isEqualTo(ROOTS[0]);
    for (int n = 1; n <= 8; n++) {
      f.append(leaves(8).get(n - 1));
      assertThat(HEX.formatHex(f.root())).as("size " + n).isEqualTo(ROOTS[n]);
    }
    List<byte[]> many = new ArrayList<>();
    Merkle.Frontier g = new Merkle.Frontier();
    for (int i = 0; i < 70; i++) {
      many.add(Merkle.leafHash(new byte[] {(byte) i}));
      g.append(many.getLast());
      assertThat(g.root()).as("size " + (i + 1)).isEqualTo(Merkle.root(many));
    }
  }

  @Test
  void auditPaths_areTheReferencePaths() {
    assertThat(Merkle.inclusionProof(leaves(8), 0).stream().map(HEX::formatHex))
        .containsExactly(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
    assertThat(Merkle.inclusionProof(leaves(8), 5).stream().map(HEX::formatHex))
        .containsExactly(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
  }

  @Test
  void everyLeafsProof_verifies_inEverySize_andFailsForAnotherLeafIndexOrRoot() {
    List<byte[]> many = new ArrayList<>();
    for (int i = 0; i < 37; i++) {
      many.add(Merkle.leafHash(new byte[] {(byte) i, (byte) (i * 7)}));
    }
    for (int size = 1; size <= many.size(); size++) {
      List<byte[]> tree = many.subList(0, size);
      byte[] root = Merkle.root(tree);
      for (int i = 0; i < size; i++) {
        List<byte[]> proof = Merkle.inclusionProof(tree, i);
        assertThat(Merkle.verifyInclusion(tree.get(i), i, size, proof, root))
            .as(i + " of " + size)
            .isTrue();
        if (size > 1) {
          int other = (i + 1) % size;
          assertThat(Merkle.verifyInclusion(tree.get(other), i, size, proof, root)).isFalse();
          assertThat(Merkle.verifyInclusion(tree.get(i), other, size, proof, root)).isFalse();
          assertThat(Merkle.verifyInclusion(tree.get(i), i, size, proof, Merkle.root(many)))
              .isEqualTo(size == many.size());
        }
      }
    }
  }
}
