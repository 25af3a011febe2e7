import { MigrationInterface, QueryRunner } from "typeorm";

const PREVIOUS_CLAIM_CHUNK = `
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
            $$`;

/**
 * A chunk's claim keeps how many bytes of the chunk's beginning its writer stored durably (a tus
 * PATCH that ended inside the chunk). A new claim resets it: its writer may overwrite them.
 */
export class KeptChunkBeginnings1796250000000 implements MigrationInterface {
    name = 'KeptChunkBeginnings1796250000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "chunk_claims" ADD "kept_bytes" integer NOT NULL DEFAULT 0`);
        await queryRunner.query(`
            CREATE OR REPLACE FUNCTION "claim_chunk"(p_upload_id character varying, p_chunk_index integer)
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
                    ON CONFLICT ("upload_id", "chunk_index") DO UPDATE SET "fence" = EXCLUDED."fence", "claimed_at" = now(), "kept_bytes" = 0
                    RETURNING c."fence"::text INTO claimed_fence;
                SELECT u."sha256" INTO recorded_sha256 FROM "upload_chunks" u WHERE u."upload_id" = p_upload_id AND u."chunk_index" = p_chunk_index;
                RETURN NEXT;
            END
            $$`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE OR REPLACE FUNCTION${PREVIOUS_CLAIM_CHUNK.replace(/^\s*CREATE FUNCTION/, '')}`);
        await queryRunner.query(`ALTER TABLE "chunk_claims" DROP COLUMN "kept_bytes"`);
    }

}
