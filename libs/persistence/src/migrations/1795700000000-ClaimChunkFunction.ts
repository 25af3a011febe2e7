import { MigrationInterface, QueryRunner } from "typeorm";

/** The function as this migration creates it; a later migration's down() puts it back. */
export const CREATE_CLAIM_CHUNK = `
            CREATE FUNCTION "claim_chunk"(p_upload_id character varying, p_chunk_index integer)
            RETURNS TABLE ("claimed_fence" text, "recorded_sha256" character varying)
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM set_config('synchronous_commit', 'off', true);
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
 * A chunk claim in one round trip, committed without waiting for a WAL flush.
 *
 * Each statement of a volatile PL/pgSQL function takes a new snapshot, so the lookup of the
 * chunk's record sees one committed while the claim waited on that writer's lock.
 *
 * The asynchronous commit is safe because nothing is acknowledged on the claim alone: the same
 * request's record commits synchronously, which flushes the WAL in order, the claim included.
 * Postgres flushes it within wal_writer_delay anyway. If Postgres crashes inside that window, this
 * claim is gone and its record is refused (the chunk stays missing and is re-sent); an older
 * claim it had replaced may come back, but its writer also lost the Redis lease, and bytes that
 * differ from a record are caught by the worker's re-verification.
 */
export class ClaimChunkFunction1795700000000 implements MigrationInterface {
    name = 'ClaimChunkFunction1795700000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(CREATE_CLAIM_CHUNK);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP FUNCTION "claim_chunk"(character varying, integer)`);
    }

}
