import { MigrationInterface, QueryRunner } from "typeorm";

const CLAIM_CHUNK = (onConflict: string) => `
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
                    ON CONFLICT ("upload_id", "chunk_index") DO UPDATE SET ${onConflict}
                    RETURNING c."fence"::text INTO claimed_fence;
                SELECT u."sha256" INTO recorded_sha256 FROM "upload_chunks" u WHERE u."upload_id" = p_upload_id AND u."chunk_index" = p_chunk_index;
                RETURN NEXT;
            END
            $$`;

/**
 * A chunk's claim counts the writers that claimed it, and its record keeps whether there was more
 * than one (`contested`): a writer whose claim was superseded may still write the chunk's bytes
 * after it was recorded, so verification that read it early must read it again. Rows recorded
 * before this migration are taken as contested.
 */
export class ContestedChunks1796350000000 implements MigrationInterface {
    name = 'ContestedChunks1796350000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "chunk_claims" ADD "claims" integer NOT NULL DEFAULT 1`);
        await queryRunner.query(`ALTER TABLE "upload_chunks" ADD "contested" boolean NOT NULL DEFAULT true`);
        await queryRunner.query(CLAIM_CHUNK(`"fence" = EXCLUDED."fence", "claimed_at" = now(), "kept_bytes" = 0, "claims" = c."claims" + 1`));
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(CLAIM_CHUNK(`"fence" = EXCLUDED."fence", "claimed_at" = now(), "kept_bytes" = 0`));
        await queryRunner.query(`ALTER TABLE "upload_chunks" DROP COLUMN "contested"`);
        await queryRunner.query(`ALTER TABLE "chunk_claims" DROP COLUMN "claims"`);
    }

}
