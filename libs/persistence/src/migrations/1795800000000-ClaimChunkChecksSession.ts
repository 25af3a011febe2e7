import { MigrationInterface, QueryRunner } from "typeorm";
import { CREATE_CLAIM_CHUNK } from "./1795700000000-ClaimChunkFunction";

/**
 * claim_chunk also answers the session's status (`expired` once past its expiry), and claims
 * nothing unless that is `uploading`: a chunk request that knows the session's geometry
 * already needs no separate read of the session row before it writes.
 */
export class ClaimChunkChecksSession1795800000000 implements MigrationInterface {
    name = 'ClaimChunkChecksSession1795800000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // The result columns change, which CREATE OR REPLACE cannot do.
        await queryRunner.query(`DROP FUNCTION "claim_chunk"(character varying, integer)`);
        await queryRunner.query(`
            CREATE FUNCTION "claim_chunk"(p_upload_id character varying, p_chunk_index integer)
            RETURNS TABLE ("session_status" text, "claimed_fence" text, "recorded_sha256" character varying)
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM set_config('synchronous_commit', 'off', true);
                SELECT CASE WHEN s."status" = 'uploading' AND s."expires_at" <= now() THEN 'expired' ELSE s."status" END
                    INTO session_status FROM "uploads" s WHERE s."id" = p_upload_id;
                IF session_status IS DISTINCT FROM 'uploading' THEN
                    RETURN NEXT;
                    RETURN;
                END IF;
                -- A chunk already recorded needs no claim (its retries only compare), so none is left behind.
                INSERT INTO "chunk_claims" AS c ("upload_id", "chunk_index")
                    SELECT p_upload_id, p_chunk_index
                    WHERE NOT EXISTS (SELECT 1 FROM "upload_chunks" u WHERE u."upload_id" = p_upload_id AND u."chunk_index" = p_chunk_index)
                    ON CONFLICT ("upload_id", "chunk_index") DO UPDATE SET "fence" = EXCLUDED."fence", "claimed_at" = now()
                    RETURNING c."fence"::text INTO claimed_fence;
                SELECT u."sha256" INTO recorded_sha256 FROM "upload_chunks" u WHERE u."upload_id" = p_upload_id AND u."chunk_index" = p_chunk_index;
                RETURN NEXT;
            END
            $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP FUNCTION "claim_chunk"(character varying, integer)`);
        await queryRunner.query(CREATE_CLAIM_CHUNK);
    }

}
