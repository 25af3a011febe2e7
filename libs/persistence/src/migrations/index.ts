import { CreateUploads1795557684384 } from './1795557684384-CreateUploads';
import { IndexAssemblingUploads1795559194533 } from './1795559194533-IndexAssemblingUploads';
import { CreateChunkClaims1795600000000 } from './1795600000000-CreateChunkClaims';
import { ClaimChunkFunction1795700000000 } from './1795700000000-ClaimChunkFunction';
import { ClaimChunkChecksSession1795800000000 } from './1795800000000-ClaimChunkChecksSession';
import { ChunkEtag1795900000000 } from './1795900000000-ChunkEtag';
import { CreateWebhookEvents1796100000000 } from './1796100000000-CreateWebhookEvents';
import { KeptChunkBeginnings1796250000000 } from './1796250000000-KeptChunkBeginnings';
import { TusConcat1796300000000 } from './1796300000000-TusConcat';
import { ContestedChunks1796350000000 } from './1796350000000-ContestedChunks';

// Every migration, in order. Listed by hand: globs break in bundled builds.
export const migrations = [CreateUploads1795557684384, IndexAssemblingUploads1795559194533, CreateChunkClaims1795600000000, ClaimChunkFunction1795700000000, ClaimChunkChecksSession1795800000000, ChunkEtag1795900000000, CreateWebhookEvents1796100000000, KeptChunkBeginnings1796250000000, TusConcat1796300000000, ContestedChunks1796350000000];
